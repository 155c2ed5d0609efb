use crate::both_backends;
