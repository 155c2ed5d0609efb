-- Community digital technology teams, created by a decision of the commune.
CREATE TABLE teams (
    id TEXT PRIMARY KEY NOT NULL,
    commune_id TEXT NOT NULL REFERENCES communes (id),
    -- NULL for the commune-level team.
    village_id TEXT REFERENCES villages (id),
    name TEXT NOT NULL,
    decision_number TEXT NOT NULL,
    decision_date DATE NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX teams_commune_idx ON teams (commune_id, village_id);

CREATE TABLE team_members (
    id TEXT PRIMARY KEY NOT NULL,
    team_id TEXT NOT NULL REFERENCES teams (id),
    commune_id TEXT NOT NULL REFERENCES communes (id),
    full_name TEXT NOT NULL,
    position TEXT NOT NULL CHECK (position IN ('leader', 'deputy', 'member')),
    origin TEXT NOT NULL,
    phone TEXT,
    user_id TEXT REFERENCES users (id),
    active_from DATE NOT NULL,
    active_until DATE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX team_members_team_idx ON team_members (team_id);
CREATE INDEX team_members_user_idx ON team_members (user_id);

-- The digital-service catalogue (seeded below, editable by admin).
CREATE TABLE services (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL,
    department TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('person', 'household')),
    min_age INTEGER,
    sort_order INTEGER NOT NULL DEFAULT 0,
    retired_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE households (
    id TEXT PRIMARY KEY NOT NULL,
    commune_id TEXT NOT NULL REFERENCES communes (id),
    village_id TEXT NOT NULL REFERENCES villages (id),
    hamlet TEXT,
    lane TEXT,
    house_number TEXT,
    head_name TEXT NOT NULL,
    phone TEXT,
    -- Diacritic-free, lower-case text of the head, residents and address, for search.
    search_key TEXT NOT NULL,
    consent_by TEXT,
    consent_at TIMESTAMP,
    consent_notice_version TEXT,
    last_visited_at TIMESTAMP,
    version BIGINT NOT NULL DEFAULT 1,
    deleted_at TIMESTAMP,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX households_village_idx ON households (village_id, head_name);
CREATE INDEX households_commune_idx ON households (commune_id);

CREATE TABLE residents (
    id TEXT PRIMARY KEY NOT NULL,
    household_id TEXT NOT NULL REFERENCES households (id),
    commune_id TEXT NOT NULL REFERENCES communes (id),
    village_id TEXT NOT NULL REFERENCES villages (id),
    full_name TEXT NOT NULL,
    birth_year INTEGER,
    sex TEXT CHECK (sex IN ('male', 'female', 'other')),
    phone TEXT,
    relation_to_head TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    deleted_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX residents_household_idx ON residents (household_id);
CREATE INDEX residents_village_idx ON residents (village_id);

-- The adoption ledger: one row per (resident or household, service). `subject_id` is the resident id
-- for person-level services and the household id for household-level ones (never NULL, so the unique
-- key works the same on both databases).
CREATE TABLE adoptions (
    id TEXT PRIMARY KEY NOT NULL,
    commune_id TEXT NOT NULL REFERENCES communes (id),
    village_id TEXT NOT NULL REFERENCES villages (id),
    household_id TEXT NOT NULL REFERENCES households (id),
    resident_id TEXT REFERENCES residents (id),
    subject_id TEXT NOT NULL,
    service_code TEXT NOT NULL REFERENCES services (code),
    status TEXT NOT NULL
        CHECK (status IN ('unknown', 'not_yet', 'assisted', 'done', 'declined', 'not_applicable')),
    status_on DATE NOT NULL,
    set_by TEXT,
    source TEXT NOT NULL CHECK (source IN ('record', 'correction', 'import')),
    source_record_id TEXT,
    note TEXT,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (subject_id, service_code)
);
CREATE INDEX adoptions_household_idx ON adoptions (household_id);
CREATE INDEX adoptions_village_service_idx ON adoptions (village_id, service_code, status);

-- Every change to synced data, in order; the sync pull reads it by scope and sequence.
CREATE TABLE changes (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    commune_id TEXT,
    village_id TEXT,
    op TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    changed_at TIMESTAMP NOT NULL
);
CREATE INDEX changes_village_idx ON changes (village_id, seq);
CREATE INDEX changes_commune_idx ON changes (commune_id, seq);

INSERT INTO services (id, code, name_vi, name_en, department, level, min_age, sort_order, created_at, updated_at) VALUES
('0193a000-0000-7000-8000-000000000001', 'vneid_level2', 'Định danh điện tử VNeID mức 2', 'VNeID electronic identity, level 2', 'police', 'person', 14, 1, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
('0193a000-0000-7000-8000-000000000002', 'public_service_portal', 'Dịch vụ công trực tuyến (Cổng DVC quốc gia và thành phố)', 'Online public services (national and city portals)', 'service_center', 'person', 18, 2, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
('0193a000-0000-7000-8000-000000000003', 'online_fee_payment', 'Thanh toán trực tuyến phí, lệ phí', 'Online payment of fees and charges', 'service_center', 'person', 18, 3, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
('0193a000-0000-7000-8000-000000000004', 'payment_account', 'Tài khoản thanh toán không dùng tiền mặt', 'Cashless payment account', 'economy', 'person', 15, 4, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
('0193a000-0000-7000-8000-000000000005', 'smart_haiphong', 'Ứng dụng Smart Hải Phòng', 'Smart Hải Phòng app', 'culture_social', 'person', 15, 5, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
('0193a000-0000-7000-8000-000000000006', 'electronic_health_record', 'Sổ sức khỏe điện tử', 'Electronic health record', 'health', 'person', NULL, 6, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
('0193a000-0000-7000-8000-000000000007', 'cashless_hospital_fees', 'Thanh toán viện phí không dùng tiền mặt', 'Cashless hospital fees', 'health', 'person', 18, 7, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
('0193a000-0000-7000-8000-000000000008', 'cashless_tuition', 'Thanh toán học phí không dùng tiền mặt', 'Cashless tuition payment', 'education', 'household', NULL, 8, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
('0193a000-0000-7000-8000-000000000009', 'digital_signature', 'Chữ ký số', 'Digital signature', 'service_center', 'person', 18, 9, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
('0193a000-0000-7000-8000-00000000000a', 'e_wallet', 'Ví điện tử', 'E-wallet', 'economy', 'person', 15, 10, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
('0193a000-0000-7000-8000-00000000000b', 'e_commerce', 'Sàn thương mại điện tử', 'E-commerce platforms', 'economy', 'household', NULL, 11, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
('0193a000-0000-7000-8000-00000000000c', 'traceability', 'Mã truy xuất nguồn gốc (haiphong.egap.vn)', 'Traceability codes (haiphong.egap.vn)', 'economy', 'household', NULL, 12, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
('0193a000-0000-7000-8000-00000000000d', 'ocop_ecommerce', 'Sản phẩm OCOP trên sàn thương mại điện tử', 'OCOP products on e-commerce', 'economy', 'household', NULL, 13, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
('0193a000-0000-7000-8000-00000000000e', 'land_procedures', 'Thủ tục đất đai trực tuyến (Đề án 06)', 'Online land procedures (Project 06)', 'economy', 'household', NULL, 14, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
('0193a000-0000-7000-8000-00000000000f', 'cashless_social_security', 'Chi trả an sinh xã hội không dùng tiền mặt', 'Cashless social-security payments', 'culture_social', 'person', NULL, 15, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')),
('0193a000-0000-7000-8000-000000000010', 'information_portals', 'Cổng thông tin điện tử của xã và thành phố', 'Commune and city information portals', 'culture_social', 'person', 15, 16, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'));
