CREATE TABLE `journey_actions` (
	`id` text PRIMARY KEY NOT NULL,
	`contact_key` text NOT NULL,
	`journey_id` text NOT NULL,
	`version` integer NOT NULL,
	`run_id` text NOT NULL,
	`node` text NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer NOT NULL,
	`last_error` text,
	`response_status` integer,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `journey_actions_by_contact` ON `journey_actions` (`contact_key`);--> statement-breakpoint
CREATE TABLE `journey_experiments` (
	`journey_id` text NOT NULL,
	`version` integer NOT NULL,
	`node` text NOT NULL,
	`winner` text,
	`p_value` real,
	`decided_at` text,
	`stats` text NOT NULL,
	PRIMARY KEY(`journey_id`, `version`, `node`)
);
--> statement-breakpoint
CREATE TABLE `journey_publishes` (
	`journey_id` text NOT NULL,
	`seq` integer NOT NULL,
	`live` text NOT NULL,
	`action` text NOT NULL,
	`at` text NOT NULL,
	PRIMARY KEY(`journey_id`, `seq`)
);
--> statement-breakpoint
CREATE TABLE `journey_steps` (
	`run_id` text NOT NULL,
	`seq` integer NOT NULL,
	`contact_key` text NOT NULL,
	`journey_id` text NOT NULL,
	`version` integer NOT NULL,
	`node` text NOT NULL,
	`type` text NOT NULL,
	`outcome` text NOT NULL,
	`next` text,
	`at` text NOT NULL,
	PRIMARY KEY(`run_id`, `seq`)
);
--> statement-breakpoint
CREATE INDEX `journey_steps_by_node` ON `journey_steps` (`journey_id`,`version`,`node`);--> statement-breakpoint
CREATE TABLE `journey_versions` (
	`journey_id` text NOT NULL,
	`version` integer NOT NULL,
	`definition` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`journey_id`, `version`)
);
--> statement-breakpoint
CREATE TABLE `journeys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`status` text NOT NULL,
	`live` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
DROP INDEX `journey_runs_by_journey`;--> statement-breakpoint
ALTER TABLE `journey_runs` ADD `node` text;--> statement-breakpoint
ALTER TABLE `journey_runs` ADD `waiting` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `journey_runs` ADD `converted` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `journey_runs` ADD `reason` text;--> statement-breakpoint
ALTER TABLE `journey_runs` ADD `paths` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `journey_runs` ADD `ended_at` text;--> statement-breakpoint
ALTER TABLE `journey_runs` ADD `last_seq` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `journey_runs_by_node` ON `journey_runs` (`journey_id`,`version`,`state`,`node`);--> statement-breakpoint
CREATE INDEX `journey_runs_by_journey` ON `journey_runs` (`journey_id`,`state`,`contact_key`);--> statement-breakpoint
ALTER TABLE `messages` ADD `journey_version` integer;--> statement-breakpoint
ALTER TABLE `messages` ADD `journey_node` text;--> statement-breakpoint
CREATE INDEX `messages_by_journey_node` ON `messages` (`journey_id`,`journey_version`,`journey_node`);