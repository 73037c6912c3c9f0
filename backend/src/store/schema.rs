//! The portable diesel schema shared by both backends (SQLite INTEGER ids read as BigInt).

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_seen_at -> Timestamp,
        client_addr -> Nullable<Text>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        actor_name -> Nullable<Text>,
        action -> Text,
        object_type -> Text,
        object_id -> Nullable<Text>,
        detail -> Text,
        client_addr -> Nullable<Text>,
        success -> Bool,
        hash -> Nullable<Text>,
    }
}

diesel::table! {
    audit_chain (id) {
        id -> Integer,
        chain_start_id -> BigInt,
        pre_chain_rows -> BigInt,
        last_id -> BigInt,
        last_hash -> Text,
    }
}

diesel::table! {
    targets (id) {
        id -> BigInt,
        name -> Text,
        engine -> Text,
        host -> Text,
        port -> Integer,
        database_name -> Text,
        username -> Text,
        password_enc -> Nullable<Text>,
        options -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        query_username -> Nullable<Text>,
        query_password_enc -> Nullable<Text>,
        trusted_for_queries -> Bool,
        query_account_findings -> Nullable<Text>,
        query_account_checked_at -> Nullable<Timestamp>,
        query_account_check_error -> Nullable<Text>,
        health_ok -> Nullable<Bool>,
        health_checked_at -> Nullable<Timestamp>,
        health_latency_ms -> Nullable<Double>,
        health_server_version -> Nullable<Text>,
        health_error -> Nullable<Text>,
    }
}

diesel::table! {
    target_tags (target_id, tag) {
        target_id -> BigInt,
        tag -> Text,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(target_tags -> targets (target_id));

diesel::table! {
    jobs (id) {
        id -> BigInt,
        name -> Text,
        status -> Text,
        on_error -> Text,
        transactional -> Bool,
        attempt -> Integer,
        current_script -> Integer,
        cancel_requested -> Bool,
        created_by -> Nullable<BigInt>,
        created_by_name -> Text,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        schedule_id -> Nullable<BigInt>,
        target_count -> Integer,
    }
}

diesel::table! {
    job_scripts (id) {
        id -> BigInt,
        job_id -> BigInt,
        idx -> Integer,
        sql_text -> Text,
        target_selector -> Text,
        status -> Text,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        sql_sealed -> Nullable<Text>,
        n_waiting -> Integer,
        n_running -> Integer,
        n_success -> Integer,
        n_error -> Integer,
        n_cancelled -> Integer,
    }
}

diesel::table! {
    job_runs (id) {
        id -> BigInt,
        job_id -> BigInt,
        script_idx -> Integer,
        target_id -> BigInt,
        target_name -> Text,
        attempt -> Integer,
        status -> Text,
        statements_done -> Integer,
        statements_total -> Nullable<Integer>,
        error -> Nullable<Text>,
        error_code -> Nullable<Text>,
        error_line -> Nullable<Integer>,
        claimed_by -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        late_status -> Nullable<Text>,
        late_error -> Nullable<Text>,
        latest -> Bool,
        first_statement -> Integer,
    }
}

diesel::table! {
    run_statements (id) {
        id -> BigInt,
        run_id -> BigInt,
        idx -> Integer,
        line -> Integer,
        sql_text -> Text,
        status -> Text,
        rows_affected -> Nullable<BigInt>,
        rows_returned -> Nullable<BigInt>,
        notices -> Text,
        duration_ms -> Double,
        error_code -> Nullable<Text>,
        error_message -> Nullable<Text>,
        started_at -> Timestamp,
        notices_dropped -> BigInt,
    }
}

diesel::joinable!(job_scripts -> jobs (job_id));
diesel::joinable!(job_runs -> jobs (job_id));
diesel::joinable!(run_statements -> job_runs (run_id));

diesel::table! {
    queries (id) {
        id -> BigInt,
        sql_text -> Text,
        target_selector -> Text,
        status -> Text,
        row_limit -> Integer,
        timeout_s -> Integer,
        cancel_requested -> Bool,
        runner -> Nullable<Text>,
        heartbeat_at -> Nullable<Timestamp>,
        created_by -> Nullable<BigInt>,
        created_by_name -> Text,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    query_results (id) {
        id -> BigInt,
        query_id -> BigInt,
        target_id -> BigInt,
        target_name -> Text,
        stmt_idx -> Integer,
        line -> Integer,
        status -> Text,
        columns_json -> Text,
        rows_json -> Text,
        truncated -> Bool,
        truncated_by -> Nullable<Text>,
        row_count -> BigInt,
        duration_ms -> Double,
        error -> Nullable<Text>,
        error_code -> Nullable<Text>,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(query_results -> queries (query_id));

diesel::table! {
    work_items (id) {
        id -> BigInt,
        kind -> Text,
        group_id -> BigInt,
        subject_id -> BigInt,
        target_id -> Nullable<BigInt>,
        status -> Text,
        run_after -> Timestamp,
        claimed_by -> Nullable<Text>,
        token -> BigInt,
        lease_until -> Nullable<Timestamp>,
        cancel_requested -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    grant_policies (id) {
        id -> BigInt,
        name -> Text,
        target_id -> BigInt,
        account -> Text,
        mode -> Text,
        max_duration_s -> BigInt,
        roles -> Text,
        kill_sessions -> Bool,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    schedules (id) {
        id -> BigInt,
        name -> Text,
        cron -> Text,
        timezone -> Text,
        enabled -> Bool,
        overlap -> Text,
        misfire -> Text,
        job_sealed -> Text,
        job_shown -> Text,
        owner_id -> Nullable<BigInt>,
        owner_name -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        next_fire_at -> Nullable<Timestamp>,
        last_fired_at -> Nullable<Timestamp>,
        last_job_id -> Nullable<BigInt>,
        queued_fire_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    grants (id) {
        id -> BigInt,
        status -> Text,
        policy_id -> BigInt,
        target_id -> BigInt,
        account -> Text,
        login -> Text,
        mode -> Text,
        kill_sessions -> Bool,
        requested_by -> BigInt,
        requested_by_name -> Text,
        reason -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        restore_attempts -> Integer,
        last_error -> Nullable<Text>,
        original_sealed -> Nullable<Text>,
        temp_sealed -> Text,
        saved_state -> Nullable<Text>,
        session_watermark -> Nullable<Text>,
        next_attempt_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    schedule_fires (id) {
        id -> BigInt,
        schedule_id -> BigInt,
        scheduled_for -> Timestamp,
        fired_at -> Timestamp,
        job_id -> Nullable<BigInt>,
        outcome -> Text,
        message -> Nullable<Text>,
    }
}

diesel::joinable!(schedule_fires -> schedules (schedule_id));

diesel::allow_tables_to_appear_in_same_query!(
    schedules,
    schedule_fires,
    work_items,
    users,
    sessions,
    api_tokens,
    audit_log,
    audit_chain,
    targets,
    target_tags,
    jobs,
    job_scripts,
    job_runs,
    run_statements,
    queries,
    query_results,
    grant_policies,
    grants,
);
