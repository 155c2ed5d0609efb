// Hand-written: only the types SQLite and PostgreSQL share (see db/mod.rs).

diesel::table! {
    communes (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        province -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    villages (id) {
        id -> Text,
        commune_id -> Text,
        code -> Text,
        name -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        password_hash -> Text,
        display_name -> Text,
        role -> Text,
        department -> Nullable<Text>,
        commune_id -> Nullable<Text>,
        active -> Bool,
        must_change_password -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    user_villages (user_id, village_id) {
        user_id -> Text,
        village_id -> Text,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        occurred_at -> Timestamp,
        actor_user_id -> Nullable<Text>,
        actor_label -> Text,
        action -> Text,
        object_type -> Nullable<Text>,
        object_id -> Nullable<Text>,
        commune_id -> Nullable<Text>,
        client_addr -> Nullable<Text>,
        details -> Text,
    }
}

diesel::table! {
    visit_tallies (commune_id, grain, period_start, village_id, household_id) {
        commune_id -> Text,
        grain -> Text,
        period_start -> Date,
        village_id -> Text,
        household_id -> Text,
        records -> Integer,
        house_visits -> Integer,
    }
}

diesel::table! {
    author_tallies (commune_id, grain, period_start, village_id, author_id) {
        commune_id -> Text,
        grain -> Text,
        period_start -> Date,
        village_id -> Text,
        author_id -> Text,
        records -> Integer,
        house_visits -> Integer,
    }
}

diesel::table! {
    item_tallies (commune_id, grain, period_start, service_code, village_id, author_id, outcome) {
        commune_id -> Text,
        grain -> Text,
        period_start -> Date,
        service_code -> Text,
        village_id -> Text,
        author_id -> Text,
        outcome -> Text,
        items -> Integer,
    }
}

diesel::table! {
    resident_tallies (commune_id, village_id, birth_year) {
        commune_id -> Text,
        village_id -> Text,
        birth_year -> Integer,
        residents -> Integer,
    }
}

diesel::table! {
    household_tallies (commune_id, village_id) {
        commune_id -> Text,
        village_id -> Text,
        households -> Integer,
    }
}

diesel::table! {
    adoption_tallies (commune_id, service_code, village_id, birth_year, status, status_month) {
        commune_id -> Text,
        service_code -> Text,
        village_id -> Text,
        birth_year -> Integer,
        status -> Text,
        status_month -> Date,
        subjects -> Integer,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        scopes -> Text,
        commune_id -> Nullable<Text>,
        rate_per_minute -> Integer,
        window_start -> Nullable<Timestamp>,
        window_count -> Integer,
        created_by -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        name -> Text,
        url -> Text,
        secret -> Text,
        events -> Text,
        commune_id -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        event -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(villages -> communes (commune_id));
diesel::joinable!(users -> communes (commune_id));
diesel::joinable!(user_villages -> users (user_id));
diesel::joinable!(user_villages -> villages (village_id));

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
        client_addr -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        session_id -> Text,
        token_hash -> Text,
        parent_id -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        rotated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        username -> Text,
        client_addr -> Text,
        occurred_at -> Timestamp,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));

diesel::table! {
    teams (id) {
        id -> Text,
        commune_id -> Text,
        village_id -> Nullable<Text>,
        name -> Text,
        decision_number -> Text,
        decision_date -> Date,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    team_members (id) {
        id -> Text,
        team_id -> Text,
        commune_id -> Text,
        full_name -> Text,
        position -> Text,
        origin -> Text,
        phone -> Nullable<Text>,
        user_id -> Nullable<Text>,
        active_from -> Date,
        active_until -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    services (id) {
        id -> Text,
        code -> Text,
        name_vi -> Text,
        name_en -> Text,
        department -> Text,
        level -> Text,
        min_age -> Nullable<Integer>,
        sort_order -> Integer,
        retired_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    households (id) {
        id -> Text,
        commune_id -> Text,
        village_id -> Text,
        hamlet -> Nullable<Text>,
        lane -> Nullable<Text>,
        house_number -> Nullable<Text>,
        head_name -> Text,
        phone -> Nullable<Text>,
        search_key -> Text,
        consent_by -> Nullable<Text>,
        consent_at -> Nullable<Timestamp>,
        consent_notice_version -> Nullable<Text>,
        last_visited_at -> Nullable<Timestamp>,
        version -> BigInt,
        deleted_at -> Nullable<Timestamp>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    residents (id) {
        id -> Text,
        household_id -> Text,
        commune_id -> Text,
        village_id -> Text,
        full_name -> Text,
        birth_year -> Nullable<Integer>,
        sex -> Nullable<Text>,
        phone -> Nullable<Text>,
        relation_to_head -> Nullable<Text>,
        version -> BigInt,
        deleted_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    adoptions (id) {
        id -> Text,
        commune_id -> Text,
        village_id -> Text,
        household_id -> Text,
        resident_id -> Nullable<Text>,
        subject_id -> Text,
        service_code -> Text,
        status -> Text,
        status_on -> Date,
        set_by -> Nullable<Text>,
        source -> Text,
        source_record_id -> Nullable<Text>,
        note -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    changes (seq) {
        seq -> BigInt,
        kind -> Text,
        object_id -> Text,
        commune_id -> Nullable<Text>,
        village_id -> Nullable<Text>,
        op -> Text,
        changed_at -> Timestamp,
        tx -> BigInt,
        user_id -> Nullable<Text>,
    }
}

diesel::joinable!(teams -> communes (commune_id));
diesel::joinable!(team_members -> teams (team_id));
diesel::joinable!(households -> villages (village_id));
diesel::joinable!(residents -> households (household_id));
diesel::joinable!(training_attendance -> trainings (training_id));
diesel::joinable!(material_versions -> materials (material_id));
diesel::joinable!(attachments -> materials (material_id));
diesel::joinable!(training_attendance -> team_members (member_id));
diesel::joinable!(adoptions -> households (household_id));

diesel::table! {
    devices (id, user_id) {
        id -> Text,
        user_id -> Text,
        commune_id -> Nullable<Text>,
        first_seen_at -> Timestamp,
        last_push_at -> Nullable<Timestamp>,
        last_pull_at -> Nullable<Timestamp>,
        records_applied -> BigInt,
        records_rejected -> BigInt,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    sync_receipts (id) {
        id -> Text,
        kind -> Text,
        body_hash -> Text,
        version -> BigInt,
        status -> Text,
        user_id -> Text,
        device_id -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    assistance_records (id) {
        id -> Text,
        commune_id -> Text,
        village_id -> Text,
        household_id -> Text,
        author_id -> Text,
        device_id -> Text,
        occurred_at -> Timestamp,
        channel -> Text,
        notes -> Nullable<Text>,
        follow_up_on -> Nullable<Date>,
        supersedes -> Nullable<Text>,
        superseded_by -> Nullable<Text>,
        received_at -> Timestamp,
    }
}

diesel::table! {
    assistance_items (record_id, position) {
        record_id -> Text,
        position -> Integer,
        service_code -> Text,
        outcome -> Text,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    assistance_residents (record_id, resident_id) {
        record_id -> Text,
        resident_id -> Text,
    }
}

diesel::table! {
    communications (id) {
        id -> Text,
        commune_id -> Text,
        village_id -> Nullable<Text>,
        author_id -> Text,
        device_id -> Text,
        occurred_at -> Timestamp,
        channel -> Text,
        topics -> Text,
        reach -> Integer,
        title -> Nullable<Text>,
        link -> Nullable<Text>,
        notes -> Nullable<Text>,
        received_at -> Timestamp,
    }
}

diesel::table! {
    difficulties (id) {
        id -> Text,
        commune_id -> Text,
        village_id -> Nullable<Text>,
        author_id -> Text,
        device_id -> Text,
        raised_at -> Timestamp,
        title -> Text,
        description -> Text,
        service_codes -> Text,
        status -> Text,
        assigned_department -> Nullable<Text>,
        received_at -> Timestamp,
        updated_at -> Timestamp,
        first_answered_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        closed_by -> Nullable<Text>,
    }
}

diesel::table! {
    difficulty_replies (id) {
        id -> Text,
        difficulty_id -> Text,
        commune_id -> Text,
        author_id -> Text,
        side -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    materials (id) {
        id -> Text,
        commune_id -> Nullable<Text>,
        department -> Text,
        status -> Text,
        latest_version -> Integer,
        published_version -> Nullable<Integer>,
        published_at -> Nullable<Timestamp>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    material_versions (material_id, version) {
        material_id -> Text,
        version -> Integer,
        title -> Text,
        summary -> Text,
        body -> Text,
        service_codes -> Text,
        attachment_ids -> Text,
        author_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    attachments (id) {
        id -> Text,
        material_id -> Text,
        file_name -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        uploaded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    attachment_contents (attachment_id) {
        attachment_id -> Text,
        content -> Binary,
    }
}

diesel::table! {
    training_materials (training_id, material_id) {
        training_id -> Text,
        material_id -> Text,
    }
}

diesel::table! {
    campaigns (id) {
        id -> Text,
        commune_id -> Text,
        organiser -> Text,
        name -> Text,
        description -> Text,
        starts_on -> Date,
        ends_on -> Date,
        rules -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    award_proposals (id) {
        id -> Text,
        commune_id -> Text,
        subject_kind -> Text,
        subject_id -> Text,
        subject_name -> Text,
        award -> Text,
        reason -> Text,
        period_start -> Date,
        period_end -> Date,
        campaign_id -> Nullable<Text>,
        evidence -> Text,
        status -> Text,
        proposed_by -> Text,
        proposed_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_note -> Nullable<Text>,
    }
}

diesel::table! {
    trainings (id) {
        id -> Text,
        commune_id -> Text,
        organiser -> Text,
        topic -> Text,
        held_on -> Date,
        place -> Text,
        mode -> Text,
        service_codes -> Text,
        notes -> Nullable<Text>,
        created_by -> Text,
        cancelled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    training_attendance (training_id, member_id) {
        training_id -> Text,
        member_id -> Text,
        attended -> Bool,
        note -> Nullable<Text>,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    sync_conflicts (id) {
        id -> Text,
        kind -> Text,
        object_id -> Text,
        commune_id -> Text,
        village_id -> Text,
        user_id -> Text,
        device_id -> Text,
        base_version -> BigInt,
        server_version -> BigInt,
        client_data -> Text,
        server_data -> Text,
        status -> Text,
        resolution -> Nullable<Text>,
        resolved_by -> Nullable<Text>,
        created_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    plans (id) {
        id -> Text,
        commune_id -> Text,
        period_kind -> Text,
        period_start -> Date,
        version -> Integer,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    plan_versions (plan_id, version) {
        plan_id -> Text,
        version -> Integer,
        number -> Text,
        issued_on -> Date,
        signer -> Text,
        purpose -> Text,
        tasks -> Text,
        change_note -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    report_submissions (report_id) {
        report_id -> Text,
        commune_id -> Text,
        submitted_by -> Text,
        submitted_at -> Timestamp,
        acknowledged_by -> Nullable<Text>,
        acknowledged_at -> Nullable<Timestamp>,
        acknowledgement -> Nullable<Text>,
    }
}

diesel::table! {
    targets (id) {
        id -> Text,
        commune_id -> Text,
        village_id -> Nullable<Text>,
        indicator_id -> Text,
        period_kind -> Text,
        period_start -> Date,
        target_percent -> Double,
        set_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    funding_entries (id) {
        id -> Text,
        commune_id -> Text,
        direction -> Text,
        source -> Text,
        category -> Text,
        party -> Text,
        description -> Nullable<Text>,
        amount_vnd -> BigInt,
        occurred_on -> Date,
        created_by -> Text,
        created_at -> Timestamp,
        voided_at -> Nullable<Timestamp>,
        voided_by -> Nullable<Text>,
        void_reason -> Nullable<Text>,
    }
}

diesel::table! {
    indicator_watch (commune_id, indicator_id) {
        commune_id -> Text,
        indicator_id -> Text,
        reached -> Bool,
        percent -> Double,
        checked_at -> Timestamp,
    }
}

diesel::table! {
    indicators (id) {
        id -> Text,
        code -> Text,
        name_vi -> Text,
        name_en -> Text,
        department -> Text,
        kind -> Text,
        service_code -> Nullable<Text>,
        level -> Text,
        min_age -> Nullable<Integer>,
        target_percent -> Nullable<Double>,
        sort_order -> Integer,
        retired_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    reports (id) {
        id -> Text,
        commune_id -> Text,
        period_kind -> Text,
        period_start -> Date,
        period_end -> Date,
        status -> Text,
        content -> Text,
        prepared_by -> Text,
        prepared_at -> Timestamp,
        approved_by -> Nullable<Text>,
        approved_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        returned_by -> Nullable<Text>,
        returned_at -> Nullable<Timestamp>,
        return_note -> Nullable<Text>,
    }
}

diesel::joinable!(assistance_items -> assistance_records (record_id));
diesel::joinable!(assistance_residents -> assistance_records (record_id));

diesel::allow_tables_to_appear_in_same_query!(
    attachment_contents,
    communes,
    villages,
    users,
    user_villages,
    audit_events,
    sessions,
    refresh_tokens,
    login_failures,
    teams,
    team_members,
    services,
    households,
    residents,
    adoptions,
    changes,
    devices,
    sync_receipts,
    assistance_records,
    assistance_items,
    assistance_residents,
    communications,
    difficulties,
    difficulty_replies,
    trainings,
    training_attendance,
    materials,
    material_versions,
    attachments,
    training_materials,
    campaigns,
    award_proposals,
    sync_conflicts,
    indicators,
    reports,
    visit_tallies,
    author_tallies,
    item_tallies,
    resident_tallies,
    household_tallies,
    adoption_tallies,
    api_keys,
    webhooks,
    webhook_deliveries,
);
