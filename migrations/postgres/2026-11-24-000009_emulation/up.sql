-- Emulation campaigns (phong trào thi đua) of the youth union or the culture-social office: a period
-- and scoring rules that give points for services brought to `done` (counted once per person or
-- household, from the adoption ledger), not for mere activity.
CREATE TABLE campaigns (
    id TEXT PRIMARY KEY NOT NULL,
    commune_id TEXT NOT NULL REFERENCES communes (id),
    organiser TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    -- JSON array of {"service_code": "...", "points": n}.
    rules TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX campaigns_commune_idx ON campaigns (commune_id, starts_on);

-- Award proposals (đề nghị khen thưởng): the culture-social office proposes a team or a member with
-- evidence drawn from the data; the chairman approves or rejects, and the decision is kept.
CREATE TABLE award_proposals (
    id TEXT PRIMARY KEY NOT NULL,
    commune_id TEXT NOT NULL REFERENCES communes (id),
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('team', 'member')),
    subject_id TEXT NOT NULL,
    subject_name TEXT NOT NULL,
    award TEXT NOT NULL,
    reason TEXT NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    campaign_id TEXT REFERENCES campaigns (id),
    -- JSON snapshot of the figures at the time of the proposal.
    evidence TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('proposed', 'approved', 'rejected')),
    proposed_by TEXT NOT NULL REFERENCES users (id),
    proposed_at TIMESTAMP NOT NULL,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    decision_note TEXT
);
CREATE INDEX award_proposals_commune_idx ON award_proposals (commune_id, status);
-- The campaign leaderboard reads done entries of the ledger by record.
CREATE INDEX adoptions_status_on_idx ON adoptions (commune_id, status, status_on);
