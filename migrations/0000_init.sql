CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`key_hash` text NOT NULL,
	`prefix` text NOT NULL,
	`created_at` text NOT NULL,
	`revoked_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash_unique` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE TABLE `attribution_credits` (
	`conversion_id` text NOT NULL,
	`model` text NOT NULL,
	`channel` text NOT NULL,
	`day` text NOT NULL,
	`conversions` real NOT NULL,
	`value` real NOT NULL,
	PRIMARY KEY(`conversion_id`, `model`, `channel`)
);
--> statement-breakpoint
CREATE INDEX `credits_by_model_day` ON `attribution_credits` (`model`,`day`);--> statement-breakpoint
CREATE TABLE `attribution_fits` (
	`id` text PRIMARY KEY NOT NULL,
	`fitted_at` text NOT NULL,
	`from_day` text NOT NULL,
	`to_day` text NOT NULL,
	`paths` integer NOT NULL,
	`duration_ms` integer NOT NULL,
	`removal_effects` text NOT NULL,
	`value_removal_effects` text NOT NULL,
	`intervals` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `audit_log` (
	`seq` integer PRIMARY KEY NOT NULL,
	`at` text NOT NULL,
	`actor_key_id` text NOT NULL,
	`actor_role` text NOT NULL,
	`action` text NOT NULL,
	`subject_hash` text,
	`status` integer NOT NULL,
	`detail` text,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_by_subject` ON `audit_log` (`subject_hash`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_by_actor` ON `audit_log` (`actor_key_id`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_by_time` ON `audit_log` (`at`);--> statement-breakpoint
CREATE TABLE `contact_consent` (
	`contact_key` text PRIMARY KEY NOT NULL,
	`analytics` integer,
	`marketing` integer,
	`personalization` integer,
	`advertising` integer,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `contact_days` (
	`day` text NOT NULL,
	`contact_key` text NOT NULL,
	PRIMARY KEY(`day`, `contact_key`)
);
--> statement-breakpoint
CREATE TABLE `contacts` (
	`key` text PRIMARY KEY NOT NULL,
	`user_id` text,
	`email` text,
	`anonymous_ids` text NOT NULL,
	`traits` text NOT NULL,
	`first_seen` text NOT NULL,
	`last_seen` text NOT NULL,
	`event_count` integer NOT NULL,
	`version` integer NOT NULL,
	`merged_into` text
);
--> statement-breakpoint
CREATE INDEX `contacts_by_last_seen` ON `contacts` (`last_seen`,`key`);--> statement-breakpoint
CREATE INDEX `contacts_by_email` ON `contacts` (`email`);--> statement-breakpoint
CREATE TABLE `conversion_definitions` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`event_name` text NOT NULL,
	`filter` text NOT NULL,
	`value_property` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `conversions` (
	`id` text PRIMARY KEY NOT NULL,
	`contact_key` text,
	`definition_id` text NOT NULL,
	`name` text NOT NULL,
	`at` text NOT NULL,
	`day` text NOT NULL,
	`value` real NOT NULL,
	`deterministic` integer NOT NULL,
	`path` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `conversions_by_day` ON `conversions` (`day`);--> statement-breakpoint
CREATE INDEX `conversions_by_contact` ON `conversions` (`contact_key`);--> statement-breakpoint
CREATE TABLE `daily_rollups` (
	`day` text NOT NULL,
	`metric` text NOT NULL,
	`dimension` text NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`day`, `metric`, `dimension`)
);
--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`queue` text NOT NULL,
	`body` text NOT NULL,
	`attempts` integer NOT NULL,
	`received_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `erasure_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`identifier_kind` text NOT NULL,
	`identifier` text,
	`status` text NOT NULL,
	`requested_by` text NOT NULL,
	`reason` text NOT NULL,
	`requested_at` text NOT NULL,
	`completed_at` text,
	`receipt` text,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `erasures_by_time` ON `erasure_requests` (`requested_at`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`message_id` text NOT NULL,
	`contact_key` text NOT NULL,
	`source_id` text NOT NULL,
	`type` text NOT NULL,
	`event` text,
	`user_id` text,
	`anonymous_id` text,
	`timestamp` text NOT NULL,
	`received_at` text NOT NULL,
	`day` text NOT NULL,
	`path` text,
	`landing` integer NOT NULL,
	`referrer_domain` text,
	`channel` text,
	`country` text,
	`browser` text,
	`os` text,
	`device` text,
	`bot` integer NOT NULL,
	`properties` text,
	`context` text,
	`rolled_up` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_by_contact` ON `events` (`contact_key`,`timestamp`);--> statement-breakpoint
CREATE INDEX `events_by_time` ON `events` (`timestamp`);--> statement-breakpoint
CREATE INDEX `events_pending_rollup` ON `events` (`rolled_up`) WHERE rolled_up = 0;--> statement-breakpoint
CREATE TABLE `identities` (
	`kind` text NOT NULL,
	`value` text NOT NULL,
	`contact_key` text NOT NULL,
	PRIMARY KEY(`kind`, `value`)
);
--> statement-breakpoint
CREATE INDEX `identities_by_contact` ON `identities` (`contact_key`);--> statement-breakpoint
CREATE TABLE `merges` (
	`from_key` text PRIMARY KEY NOT NULL,
	`into_key` text NOT NULL,
	`merged_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sessions` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`key_id` text NOT NULL,
	`role` text NOT NULL,
	`csrf_token` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sources` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`write_key` text NOT NULL,
	`allowed_origins` text NOT NULL,
	`consent_mode` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sources_write_key_unique` ON `sources` (`write_key`);--> statement-breakpoint
CREATE TABLE `suppressions` (
	`hash` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`contact_object_id` text,
	`erasure_id` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `touches` (
	`id` text PRIMARY KEY NOT NULL,
	`contact_key` text NOT NULL,
	`at` text NOT NULL,
	`channel` text NOT NULL,
	`campaign` text
);
--> statement-breakpoint
CREATE INDEX `touches_by_contact` ON `touches` (`contact_key`,`at`);--> statement-breakpoint
CREATE INDEX `touches_by_time` ON `touches` (`at`);