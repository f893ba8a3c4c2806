CREATE TABLE `audit_subjects` (
	`subject_hash` text NOT NULL,
	`seq` integer NOT NULL,
	PRIMARY KEY(`subject_hash`, `seq`)
);
--> statement-breakpoint
ALTER TABLE `erasure_requests` ADD `last_sent_at` text;