//! Sync under faults: filled in by the fault-injection work.
