// @generated automatically by Diesel CLI.

diesel::table! {
    account_tokens (token_hash) {
        token_hash -> Text,
        account_id -> Int8,
        purpose -> Text,
        email -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    accounts (id) {
        id -> Int8,
        actor_id -> Int8,
        username -> Text,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        kind -> Text,
        display_name -> Text,
        bio_markdown -> Text,
        bio_html -> Text,
        avatar_path -> Nullable<Text>,
        disciplines -> Array<Text>,
        commune -> Text,
        website -> Text,
        language -> Nullable<Text>,
        hide_network -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        last_login_at -> Nullable<Timestamptz>,
        suspended_at -> Nullable<Timestamptz>,
        email_confirmed_at -> Nullable<Timestamptz>,
        directory_kind -> Text,
        commune_code -> Nullable<Text>,
        postal_code -> Text,
        address -> Text,
        latitude -> Nullable<Float8>,
        longitude -> Nullable<Float8>,
        phone -> Text,
        contact_email -> Text,
        links -> Array<Text>,
        directory_hidden -> Bool,
        search_name -> Text,
    }
}

diesel::table! {
    activities (id) {
        id -> Int8,
        ap_id -> Text,
        kind -> Text,
        actor_id -> Int8,
        object_ap_id -> Nullable<Text>,
        data -> Jsonb,
        public -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    actors (id) {
        id -> Int8,
        ap_id -> Text,
        kind -> Text,
        username -> Text,
        domain -> Text,
        local -> Bool,
        name -> Text,
        summary_html -> Text,
        icon_url -> Nullable<Text>,
        url -> Nullable<Text>,
        inbox_url -> Text,
        shared_inbox_url -> Nullable<Text>,
        outbox_url -> Nullable<Text>,
        followers_url -> Nullable<Text>,
        following_url -> Nullable<Text>,
        public_key_pem -> Text,
        private_key_pem -> Nullable<Text>,
        manually_approves_followers -> Bool,
        discoverable -> Bool,
        published -> Timestamptz,
        updated_at -> Timestamptz,
        last_refreshed_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        blocked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    alerts (id) {
        id -> Int8,
        account_id -> Int8,
        kind -> Nullable<Text>,
        disciplines -> Array<Text>,
        commune -> Nullable<Text>,
        mail -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Int8,
        account_id -> Int8,
        name -> Text,
        token_hash -> Text,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    appeals (id) {
        id -> Int8,
        action_id -> Int8,
        account_id -> Int8,
        text -> Text,
        state -> Text,
        decided_by -> Nullable<Int8>,
        decided_at -> Nullable<Timestamptz>,
        decision_text -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    claim_invitations (token_hash) {
        token_hash -> Text,
        entry_id -> Int8,
        email -> Text,
        sent_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    comments (id) {
        id -> Int8,
        ap_id -> Text,
        post_id -> Int8,
        parent_id -> Nullable<Int8>,
        in_reply_to -> Text,
        author_actor_id -> Int8,
        account_id -> Nullable<Int8>,
        body_markdown -> Nullable<Text>,
        body_html -> Text,
        url -> Nullable<Text>,
        published_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        content_warning -> Nullable<Text>,
        mentions -> Jsonb,
        hidden_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    communes (code) {
        code -> Text,
        name -> Text,
        departement -> Text,
        postal_codes -> Array<Text>,
        epci_code -> Nullable<Text>,
        population -> Nullable<Int4>,
        latitude -> Nullable<Float8>,
        longitude -> Nullable<Float8>,
        search_name -> Text,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Int8,
        activity_id -> Int8,
        inbox_url -> Text,
        domain -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        delivered_at -> Nullable<Timestamptz>,
        failed_at -> Nullable<Timestamptz>,
        claimed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    directory_entries (id) {
        id -> Int8,
        name -> Text,
        kind -> Text,
        disciplines -> Array<Text>,
        email -> Text,
        phone -> Text,
        address -> Text,
        postal_code -> Text,
        commune_code -> Nullable<Text>,
        website -> Text,
        latitude -> Nullable<Float8>,
        longitude -> Nullable<Float8>,
        is_venue -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        claimed_at -> Nullable<Timestamptz>,
        account_id -> Nullable<Int8>,
        venue_id -> Nullable<Int8>,
        search_name -> Text,
    }
}

diesel::table! {
    domain_blocks (domain) {
        domain -> Text,
        severity -> Text,
        reason -> Text,
        created_at -> Timestamptz,
        public_comment -> Text,
        reject_reports -> Bool,
    }
}

diesel::table! {
    epcis (code) {
        code -> Text,
        name -> Text,
        kind -> Text,
    }
}

diesel::table! {
    follows (id) {
        id -> Int8,
        follower_id -> Int8,
        followee_id -> Int8,
        state -> Text,
        activity_ap_id -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    forum_categories (id) {
        id -> Int8,
        slug -> Text,
        actor_id -> Int8,
        name -> Text,
        description_markdown -> Text,
        description_html -> Text,
        position -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    forum_category_moderators (category_id, actor_id) {
        category_id -> Int8,
        actor_id -> Int8,
        added_at -> Timestamptz,
    }
}

diesel::table! {
    forum_reads (account_id, post_id) {
        account_id -> Int8,
        post_id -> Int8,
        read_at -> Timestamptz,
    }
}

diesel::table! {
    forum_subscriptions (id) {
        id -> Int8,
        account_id -> Int8,
        category_id -> Nullable<Int8>,
        thread_post_id -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    forum_threads (post_id) {
        post_id -> Int8,
        category_id -> Int8,
        locked_at -> Nullable<Timestamptz>,
        pinned_at -> Nullable<Timestamptz>,
        last_activity_at -> Timestamptz,
        reply_count -> Int4,
    }
}

diesel::table! {
    instance_identity (singleton) {
        singleton -> Bool,
        url -> Nullable<Text>,
        recorded_at -> Timestamptz,
        moved_from -> Nullable<Text>,
        moved_at -> Nullable<Timestamptz>,
        first_federated_at -> Nullable<Timestamptz>,
        link_secret -> Nullable<Text>,
    }
}

diesel::table! {
    instance_rules (id) {
        id -> Int8,
        position -> Int4,
        text_fr -> Text,
        text_en -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    instances (domain) {
        domain -> Text,
        first_failure_at -> Nullable<Timestamptz>,
        last_failure_at -> Nullable<Timestamptz>,
        last_success_at -> Nullable<Timestamptz>,
        unreachable_since -> Nullable<Timestamptz>,
        retry_after_until -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        signature_scheme -> Nullable<Text>,
    }
}

diesel::table! {
    loan_requests (id) {
        id -> Int8,
        offer_id -> Int8,
        requester_account_id -> Int8,
        starts_on -> Date,
        ends_on -> Date,
        message -> Text,
        state -> Text,
        answer -> Text,
        decided_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Int8,
        scope -> Text,
        key -> Text,
        at -> Timestamptz,
    }
}

diesel::table! {
    mails (id) {
        id -> Int8,
        account_id -> Nullable<Int8>,
        to_address -> Text,
        category -> Text,
        lang -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        unsubscribe_url -> Nullable<Text>,
        message_id -> Text,
        state -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        claimed_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
        failed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    moderation_actions (id) {
        id -> Int8,
        moderator_account_id -> Nullable<Int8>,
        report_id -> Nullable<Int8>,
        action -> Text,
        affected_actor_id -> Nullable<Int8>,
        target -> Text,
        post_id -> Nullable<Int8>,
        comment_id -> Nullable<Int8>,
        rule_ids -> Array<Int8>,
        statement -> Text,
        note -> Text,
        details -> Jsonb,
        created_at -> Timestamptz,
        acknowledged_at -> Nullable<Timestamptz>,
        reverted_at -> Nullable<Timestamptz>,
        reverted_by -> Nullable<Int8>,
        venue_id -> Nullable<Int8>,
        offer_id -> Nullable<Int8>,
    }
}

diesel::table! {
    notification_preferences (account_id, kind) {
        account_id -> Int8,
        kind -> Text,
        delivery -> Text,
    }
}

diesel::table! {
    notifications (id) {
        id -> Int8,
        account_id -> Int8,
        kind -> Text,
        actor_id -> Nullable<Int8>,
        post_id -> Nullable<Int8>,
        comment_id -> Nullable<Int8>,
        object_ap_id -> Nullable<Text>,
        alert_id -> Nullable<Int8>,
        dedupe_key -> Nullable<Text>,
        delivery -> Text,
        created_at -> Timestamptz,
        read_at -> Nullable<Timestamptz>,
        digested_at -> Nullable<Timestamptz>,
        report_id -> Nullable<Int8>,
        moderation_action_id -> Nullable<Int8>,
        loan_request_id -> Nullable<Int8>,
        venue_id -> Nullable<Int8>,
        workspace_id -> Nullable<Uuid>,
        workspace_message_id -> Nullable<Uuid>,
        workspace_document_id -> Nullable<Uuid>,
        workspace_meeting_id -> Nullable<Uuid>,
        workspace_invitation_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    offers (id) {
        id -> Int8,
        account_id -> Int8,
        venue_id -> Nullable<Int8>,
        category -> Text,
        title -> Text,
        description_markdown -> Text,
        description_html -> Text,
        terms -> Text,
        terms_details -> Text,
        commune_code -> Text,
        latitude -> Nullable<Float8>,
        longitude -> Nullable<Float8>,
        public -> Bool,
        post_id -> Nullable<Int8>,
        closed_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        hidden_at -> Nullable<Timestamptz>,
        search_name -> Text,
    }
}

diesel::table! {
    resources (id) {
        id -> Int8,
        ap_id -> Text,
        title -> Text,
        body_markdown -> Text,
        body_html -> Text,
        link_url -> Nullable<Text>,
        disciplines -> Array<Text>,
        theme -> Text,
        members_only -> Bool,
        curated -> Bool,
        author_actor_id -> Int8,
        account_id -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        hidden_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    resource_versions (id) {
        id -> Uuid,
        resource_id -> Int8,
        version -> Int4,
        file_name -> Text,
        content_type -> Text,
        size_bytes -> Int8,
        sha256 -> Text,
        storage_key -> Text,
        created_by_actor_id -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    photos (id) {
        id -> Int8,
        venue_id -> Nullable<Int8>,
        offer_id -> Nullable<Int8>,
        path -> Text,
        alt -> Text,
        position -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    posts (id) {
        id -> Int8,
        category -> Text,
        ap_id -> Text,
        author_actor_id -> Int8,
        account_id -> Nullable<Int8>,
        as_page -> Bool,
        title -> Text,
        slug -> Text,
        summary -> Text,
        body_markdown -> Text,
        body_html -> Text,
        cover_image_path -> Nullable<Text>,
        cover_image_alt -> Nullable<Text>,
        hashtags -> Array<Text>,
        kind -> Nullable<Text>,
        deadline -> Nullable<Date>,
        disciplines -> Array<Text>,
        commune -> Text,
        draft -> Bool,
        published_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        local -> Bool,
        url -> Nullable<Text>,
        mentions -> Jsonb,
        content_warning -> Nullable<Text>,
        hidden_at -> Nullable<Timestamptz>,
        commune_code -> Nullable<Text>,
    }
}

diesel::table! {
    reactions (id) {
        id -> Int8,
        kind -> Text,
        object_ap_id -> Text,
        actor_id -> Int8,
        activity_ap_id -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    received_activities (ap_id) {
        ap_id -> Text,
        received_at -> Timestamptz,
    }
}

diesel::table! {
    reference_data (name) {
        name -> Text,
        checksum -> Text,
        loaded_at -> Timestamptz,
    }
}

diesel::table! {
    report_notes (id) {
        id -> Int8,
        report_id -> Int8,
        author_account_id -> Nullable<Int8>,
        body -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    report_targets (id) {
        id -> Int8,
        report_id -> Int8,
        kind -> Text,
        ap_id -> Text,
        actor_id -> Nullable<Int8>,
        post_id -> Nullable<Int8>,
        comment_id -> Nullable<Int8>,
        snapshot -> Jsonb,
        venue_id -> Nullable<Int8>,
        offer_id -> Nullable<Int8>,
    }
}

diesel::table! {
    reports (id) {
        id -> Int8,
        ap_id -> Nullable<Text>,
        origin_domain -> Nullable<Text>,
        reporter_account_id -> Nullable<Int8>,
        reporter_actor_id -> Nullable<Int8>,
        reporter_email -> Nullable<Text>,
        reason -> Text,
        rule_ids -> Array<Int8>,
        comment -> Text,
        target_actor_id -> Nullable<Int8>,
        forward_requested -> Bool,
        forwarded_at -> Nullable<Timestamptz>,
        forwarded_by -> Nullable<Int8>,
        state -> Text,
        assigned_to -> Nullable<Int8>,
        resolution -> Nullable<Text>,
        resolved_by -> Nullable<Int8>,
        resolved_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    scheduled_runs (job) {
        job -> Text,
        last_period -> Text,
        ran_at -> Timestamptz,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        account_id -> Int8,
        csrf_token -> Text,
        created_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        expires_at -> Timestamptz,
        user_agent -> Text,
    }
}

diesel::table! {
    venue_managers (venue_id, account_id) {
        venue_id -> Int8,
        account_id -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    venues (id) {
        id -> Int8,
        actor_id -> Int8,
        slug -> Text,
        owner_account_id -> Int8,
        name -> Text,
        description_markdown -> Text,
        description_html -> Text,
        address -> Text,
        postal_code -> Text,
        commune_code -> Text,
        latitude -> Nullable<Float8>,
        longitude -> Nullable<Float8>,
        capacity -> Nullable<Int4>,
        spaces_markdown -> Text,
        equipment_markdown -> Text,
        conditions_markdown -> Text,
        step_free_access -> Bool,
        hearing_loop -> Bool,
        accessibility_notes -> Text,
        disciplines -> Array<Text>,
        contact_email -> Text,
        contact_phone -> Text,
        website -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        hidden_at -> Nullable<Timestamptz>,
        search_name -> Text,
    }
}

diesel::table! {
    calendar_feeds (account_id) {
        account_id -> Int8,
        token_hash -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    workspace_document_versions (id) {
        id -> Uuid,
        document_id -> Uuid,
        version -> Int4,
        ap_id -> Text,
        uploaded_by_actor_id -> Nullable<Int8>,
        storage_key -> Nullable<Text>,
        remote_url -> Nullable<Text>,
        content_type -> Text,
        size_bytes -> Int8,
        sha256 -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    workspace_documents (id) {
        id -> Uuid,
        workspace_id -> Uuid,
        folder_id -> Nullable<Uuid>,
        name -> Text,
        ap_id -> Text,
        created_by_actor_id -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    workspace_folders (id) {
        id -> Uuid,
        workspace_id -> Uuid,
        parent_id -> Nullable<Uuid>,
        name -> Text,
        created_by_actor_id -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    workspace_invitations (id) {
        id -> Uuid,
        workspace_id -> Uuid,
        invited_by_actor_id -> Int8,
        actor_id -> Nullable<Int8>,
        email -> Nullable<Text>,
        token_hash -> Nullable<Text>,
        role -> Text,
        message -> Text,
        ap_id -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        answered_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    workspace_join_requests (id) {
        id -> Uuid,
        workspace_id -> Uuid,
        actor_id -> Int8,
        message -> Text,
        ap_id -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamptz,
        answered_at -> Nullable<Timestamptz>,
        answered_by_actor_id -> Nullable<Int8>,
    }
}

diesel::table! {
    workspace_meeting_attendees (meeting_id, actor_id) {
        meeting_id -> Uuid,
        actor_id -> Int8,
    }
}

diesel::table! {
    workspace_meetings (id) {
        id -> Uuid,
        workspace_id -> Uuid,
        ap_id -> Text,
        organizer_actor_id -> Nullable<Int8>,
        title -> Text,
        agenda_markdown -> Text,
        agenda_html -> Text,
        starts_at -> Timestamptz,
        duration_minutes -> Int4,
        room_name -> Nullable<Text>,
        video_url -> Nullable<Text>,
        notes_markdown -> Text,
        notes_html -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        cancelled_at -> Nullable<Timestamptz>,
        sequence -> Int4,
    }
}

diesel::table! {
    workspace_members (workspace_id, actor_id) {
        workspace_id -> Uuid,
        actor_id -> Int8,
        role -> Text,
        joined_at -> Timestamptz,
        last_read_seq -> Int8,
    }
}

diesel::table! {
    workspace_message_mentions (message_id, actor_id) {
        message_id -> Uuid,
        actor_id -> Int8,
    }
}

diesel::table! {
    workspace_messages (id) {
        id -> Uuid,
        seq -> Int8,
        workspace_id -> Uuid,
        author_actor_id -> Int8,
        ap_id -> Text,
        body_markdown -> Text,
        body_html -> Text,
        in_reply_to_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        edited_at -> Nullable<Timestamptz>,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    workspaces (id) {
        id -> Uuid,
        actor_id -> Int8,
        local -> Bool,
        name -> Text,
        description_markdown -> Text,
        description_html -> Text,
        disciplines -> Array<Text>,
        commune_code -> Nullable<Text>,
        listed -> Bool,
        created_by_account_id -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        archived_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(account_tokens -> accounts (account_id));
diesel::joinable!(forum_categories -> actors (actor_id));
diesel::joinable!(forum_category_moderators -> actors (actor_id));
diesel::joinable!(forum_category_moderators -> forum_categories (category_id));
diesel::joinable!(forum_reads -> accounts (account_id));
diesel::joinable!(forum_reads -> posts (post_id));
diesel::joinable!(forum_subscriptions -> accounts (account_id));
diesel::joinable!(forum_subscriptions -> forum_categories (category_id));
diesel::joinable!(forum_subscriptions -> posts (thread_post_id));
diesel::joinable!(forum_threads -> forum_categories (category_id));
diesel::joinable!(forum_threads -> posts (post_id));
diesel::joinable!(accounts -> actors (actor_id));
diesel::joinable!(accounts -> communes (commune_code));
diesel::joinable!(activities -> actors (actor_id));
diesel::joinable!(alerts -> accounts (account_id));
diesel::joinable!(api_tokens -> accounts (account_id));
diesel::joinable!(appeals -> moderation_actions (action_id));
diesel::joinable!(claim_invitations -> accounts (sent_by));
diesel::joinable!(claim_invitations -> directory_entries (entry_id));
diesel::joinable!(comments -> accounts (account_id));
diesel::joinable!(comments -> actors (author_actor_id));
diesel::joinable!(comments -> posts (post_id));
diesel::joinable!(communes -> epcis (epci_code));
diesel::joinable!(deliveries -> activities (activity_id));
diesel::joinable!(directory_entries -> accounts (account_id));
diesel::joinable!(directory_entries -> communes (commune_code));
diesel::joinable!(directory_entries -> venues (venue_id));
diesel::joinable!(loan_requests -> accounts (requester_account_id));
diesel::joinable!(loan_requests -> offers (offer_id));
diesel::joinable!(mails -> accounts (account_id));
diesel::joinable!(notification_preferences -> accounts (account_id));
diesel::joinable!(notifications -> accounts (account_id));
diesel::joinable!(notifications -> actors (actor_id));
diesel::joinable!(notifications -> alerts (alert_id));
diesel::joinable!(notifications -> comments (comment_id));
diesel::joinable!(notifications -> loan_requests (loan_request_id));
diesel::joinable!(notifications -> moderation_actions (moderation_action_id));
diesel::joinable!(notifications -> posts (post_id));
diesel::joinable!(notifications -> reports (report_id));
diesel::joinable!(notifications -> venues (venue_id));
diesel::joinable!(offers -> accounts (account_id));
diesel::joinable!(offers -> communes (commune_code));
diesel::joinable!(offers -> posts (post_id));
diesel::joinable!(offers -> venues (venue_id));
diesel::joinable!(photos -> offers (offer_id));
diesel::joinable!(photos -> venues (venue_id));
diesel::joinable!(posts -> accounts (account_id));
diesel::joinable!(posts -> actors (author_actor_id));
diesel::joinable!(posts -> communes (commune_code));
diesel::joinable!(reactions -> actors (actor_id));
diesel::joinable!(report_notes -> reports (report_id));
diesel::joinable!(report_targets -> reports (report_id));
diesel::joinable!(sessions -> accounts (account_id));
diesel::joinable!(venue_managers -> accounts (account_id));
diesel::joinable!(venue_managers -> venues (venue_id));
diesel::joinable!(venues -> actors (actor_id));
diesel::joinable!(venues -> communes (commune_code));

diesel::joinable!(calendar_feeds -> accounts (account_id));
diesel::joinable!(workspace_document_versions -> workspace_documents (document_id));
diesel::joinable!(workspace_documents -> workspace_folders (folder_id));
diesel::joinable!(workspace_documents -> workspaces (workspace_id));
diesel::joinable!(workspace_folders -> workspaces (workspace_id));
diesel::joinable!(workspace_meeting_attendees -> actors (actor_id));
diesel::joinable!(workspace_meeting_attendees -> workspace_meetings (meeting_id));
diesel::joinable!(workspace_meetings -> workspaces (workspace_id));
diesel::joinable!(workspace_members -> actors (actor_id));
diesel::joinable!(workspace_members -> workspaces (workspace_id));
diesel::joinable!(workspace_message_mentions -> actors (actor_id));
diesel::joinable!(workspace_message_mentions -> workspace_messages (message_id));
diesel::joinable!(workspace_messages -> actors (author_actor_id));
diesel::joinable!(workspace_messages -> workspaces (workspace_id));
diesel::joinable!(workspaces -> actors (actor_id));
diesel::joinable!(workspaces -> communes (commune_code));

diesel::joinable!(resource_versions -> resources (resource_id));
diesel::joinable!(resources -> accounts (account_id));
diesel::joinable!(resources -> actors (author_actor_id));

diesel::allow_tables_to_appear_in_same_query!(
    forum_categories,
    forum_category_moderators,
    forum_reads,
    forum_subscriptions,
    forum_threads,
    account_tokens,
    accounts,
    activities,
    actors,
    alerts,
    api_tokens,
    appeals,
    claim_invitations,
    comments,
    communes,
    deliveries,
    directory_entries,
    domain_blocks,
    epcis,
    follows,
    instance_identity,
    instance_rules,
    instances,
    loan_requests,
    login_failures,
    mails,
    moderation_actions,
    notification_preferences,
    notifications,
    offers,
    photos,
    posts,
    reactions,
    received_activities,
    reference_data,
    report_notes,
    report_targets,
    reports,
    resource_versions,
    resources,
    scheduled_runs,
    sessions,
    venue_managers,
    venues,
    calendar_feeds,
    workspace_document_versions,
    workspace_documents,
    workspace_folders,
    workspace_invitations,
    workspace_join_requests,
    workspace_meeting_attendees,
    workspace_meetings,
    workspace_members,
    workspace_message_mentions,
    workspace_messages,
    workspaces,
);
