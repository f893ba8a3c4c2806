CREATE TABLE `marketing_spend` (
	`channel` text NOT NULL,
	`day` text NOT NULL,
	`amount` real NOT NULL,
	`currency` text,
	`imported_at` text NOT NULL,
	PRIMARY KEY(`channel`, `day`)
);
--> statement-breakpoint
CREATE INDEX `marketing_spend_by_day` ON `marketing_spend` (`day`);--> statement-breakpoint
CREATE INDEX `message_events_by_kind` ON `message_events` (`kind`,`at`);