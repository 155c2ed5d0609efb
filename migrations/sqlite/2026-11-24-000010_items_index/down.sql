CREATE INDEX assistance_items_service_idx ON assistance_items (service_code, outcome);
