CREATE TABLE `logged_emails` (
	`message_id` text PRIMARY KEY NOT NULL,
	`contact_key` text NOT NULL,
	`to_address` text NOT NULL,
	`from_address` text NOT NULL,
	`subject` text NOT NULL,
	`html` text NOT NULL,
	`text` text NOT NULL,
	`headers` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `logged_emails_by_contact` ON `logged_emails` (`contact_key`);--> statement-breakpoint
CREATE TABLE `messages` (
	`id` text PRIMARY KEY NOT NULL,
	`contact_key` text NOT NULL,
	`template_id` text NOT NULL,
	`journey_id` text,
	`kind` text NOT NULL,
	`subject` text,
	`status` text NOT NULL,
	`reason` text,
	`attempts` text NOT NULL,
	`version` integer NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `messages_by_time` ON `messages` (`created_at`);--> statement-breakpoint
CREATE INDEX `messages_by_contact` ON `messages` (`contact_key`,`created_at`);--> statement-breakpoint
CREATE INDEX `messages_by_status` ON `messages` (`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `messages_by_journey` ON `messages` (`journey_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `subscription_groups` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`default_subscribed` integer NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `template_snippets` (
	`name` text PRIMARY KEY NOT NULL,
	`body` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `templates` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`subject` text NOT NULL,
	`html` text NOT NULL,
	`text` text,
	`kind` text NOT NULL,
	`group_id` text,
	`layout` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
