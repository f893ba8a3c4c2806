CREATE TABLE `contact_accounts` (
	`contact_key` text NOT NULL,
	`group_id` text NOT NULL,
	`traits` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`contact_key`, `group_id`)
);
--> statement-breakpoint
CREATE TABLE `contact_predictions` (
	`contact_key` text PRIMARY KEY NOT NULL,
	`engagement` real,
	`churn_risk` real,
	`p_alive` real,
	`clv` real,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `contact_subscriptions` (
	`contact_key` text NOT NULL,
	`group_id` text NOT NULL,
	`subscribed` integer NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`contact_key`, `group_id`)
);
--> statement-breakpoint
CREATE TABLE `journey_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`contact_key` text NOT NULL,
	`journey_id` text NOT NULL,
	`version` integer NOT NULL,
	`state` text NOT NULL,
	`started_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `journey_runs_by_contact` ON `journey_runs` (`contact_key`,`journey_id`);--> statement-breakpoint
CREATE INDEX `journey_runs_by_journey` ON `journey_runs` (`journey_id`,`state`);--> statement-breakpoint
CREATE TABLE `list_members` (
	`list_id` text NOT NULL,
	`contact_key` text NOT NULL,
	`added_at` text NOT NULL,
	PRIMARY KEY(`list_id`, `contact_key`)
);
--> statement-breakpoint
CREATE INDEX `list_members_by_contact` ON `list_members` (`contact_key`);--> statement-breakpoint
CREATE TABLE `lists` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `message_events` (
	`id` text PRIMARY KEY NOT NULL,
	`contact_key` text NOT NULL,
	`kind` text NOT NULL,
	`template_id` text,
	`at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `message_events_by_contact` ON `message_events` (`contact_key`,`kind`,`at`);--> statement-breakpoint
CREATE TABLE `segment_members` (
	`segment_id` text NOT NULL,
	`contact_key` text NOT NULL,
	`since` text NOT NULL,
	PRIMARY KEY(`segment_id`, `contact_key`)
);
--> statement-breakpoint
CREATE INDEX `segment_members_by_contact` ON `segment_members` (`contact_key`);--> statement-breakpoint
CREATE TABLE `segments` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`rule` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`changed_at` text
);
--> statement-breakpoint
ALTER TABLE `contacts` ADD `bucket_seed` integer;--> statement-breakpoint
CREATE INDEX `events_by_name` ON `events` (`event`,`timestamp`);