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

diesel::joinable!(villages -> communes (commune_id));
diesel::joinable!(users -> communes (commune_id));
diesel::joinable!(user_villages -> users (user_id));
diesel::joinable!(user_villages -> villages (village_id));

diesel::allow_tables_to_appear_in_same_query!(
    communes,
    villages,
    users,
    user_villages,
    audit_events
);

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
diesel::allow_tables_to_appear_in_same_query!(sessions, refresh_tokens, users);
