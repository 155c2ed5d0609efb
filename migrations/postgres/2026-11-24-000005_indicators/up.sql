-- Indicators are data: what to count, over whom, and which department owns the figure. Administrators
-- add and edit them without a code change.
--   kind = 'adoption'  : subjects (residents or households) whose ledger says `done` for `service_code`,
--                        over the population that matches `level` and `min_age`, minus those marked
--                        `not_applicable` for the service (honest denominators: non-producers are not
--                        counted against traceability, non-beneficiaries not against social security).
--   kind = 'visited'   : households visited at least once in the period, over all households.
--   kind = 'assisted'  : a count (no denominator) of assistance items for `service_code` in the
--                        period with outcome `done` or `assisted`, e.g. online dossiers helped.
CREATE TABLE indicators (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL,
    department TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('adoption', 'visited', 'assisted')),
    service_code TEXT REFERENCES services (code),
    level TEXT NOT NULL CHECK (level IN ('person', 'household')),
    min_age INTEGER,
    target_percent DOUBLE PRECISION,
    sort_order INTEGER NOT NULL DEFAULT 100,
    retired_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((kind = 'visited') = (service_code IS NULL))
);

-- The figures read adoption per service and village, and records per village and time.
CREATE INDEX adoptions_service_subject_idx ON adoptions (service_code, subject_id);
CREATE INDEX assistance_records_commune_idx ON assistance_records (commune_id, occurred_at);

INSERT INTO indicators (id, code, name_vi, name_en, department, kind, service_code, level, min_age, target_percent, sort_order, created_at, updated_at) VALUES
('0193b000-0000-7000-8000-000000000001', 'adults_vneid_level2', 'Người trưởng thành (từ 18 tuổi) có định danh điện tử VNeID mức 2', 'Adults (18+) with VNeID level 2', 'police', 'adoption', 'vneid_level2', 'person', 18, 100, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
('0193b000-0000-7000-8000-000000000002', 'people15_payment_account', 'Người từ 15 tuổi trở lên có tài khoản thanh toán', 'People 15+ with a payment account', 'economy', 'adoption', 'payment_account', 'person', 15, 80, 2, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
('0193b000-0000-7000-8000-000000000003', 'adults_digital_signature', 'Người trưởng thành có chữ ký số', 'Adults with a digital signature', 'service_center', 'adoption', 'digital_signature', 'person', 18, 50, 3, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
('0193b000-0000-7000-8000-000000000004', 'population_health_record', 'Dân số có sổ sức khỏe điện tử', 'Population with an electronic health record', 'health', 'adoption', 'electronic_health_record', 'person', NULL, 90, 4, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
('0193b000-0000-7000-8000-000000000005', 'people15_smart_haiphong', 'Người từ 15 tuổi trở lên dùng ứng dụng Smart Hải Phòng', 'People 15+ using Smart Hải Phòng', 'culture_social', 'adoption', 'smart_haiphong', 'person', 15, 60, 5, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
('0193b000-0000-7000-8000-000000000006', 'households_visited', 'Hộ gia đình được tổ đến hỗ trợ ít nhất một lần trong kỳ', 'Households visited at least once in the period', 'culture_social', 'visited', NULL, 'household', NULL, 100, 6, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
('0193b000-0000-7000-8000-000000000007', 'public_service_dossiers_assisted', 'Hồ sơ dịch vụ công trực tuyến được hỗ trợ', 'Online public-service dossiers assisted', 'service_center', 'assisted', 'public_service_portal', 'person', NULL, NULL, 7, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
('0193b000-0000-7000-8000-000000000008', 'households_cashless_tuition', 'Hộ gia đình đóng học phí không dùng tiền mặt', 'Households paying tuition cashless', 'education', 'adoption', 'cashless_tuition', 'household', NULL, 100, 8, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
('0193b000-0000-7000-8000-000000000009', 'beneficiaries_cashless_social_security', 'Đối tượng nhận an sinh xã hội không dùng tiền mặt', 'Social-security beneficiaries paid cashless', 'culture_social', 'adoption', 'cashless_social_security', 'person', NULL, 100, 9, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
('0193b000-0000-7000-8000-00000000000a', 'producers_traceability', 'Hộ sản xuất có mã truy xuất nguồn gốc', 'Producer households with traceability codes', 'economy', 'adoption', 'traceability', 'household', NULL, 70, 10, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
('0193b000-0000-7000-8000-00000000000b', 'producers_ocop_ecommerce', 'Hộ có sản phẩm OCOP trên sàn thương mại điện tử', 'Households with OCOP products on e-commerce', 'economy', 'adoption', 'ocop_ecommerce', 'household', NULL, 50, 11, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);
