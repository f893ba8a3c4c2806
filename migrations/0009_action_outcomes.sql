CREATE TABLE `action_outcomes` (
	`arm` text PRIMARY KEY NOT NULL,
	`successes` integer NOT NULL,
	`failures` integer NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `messages_by_template` ON `messages` (`template_id`,`created_at`);--> statement-breakpoint
INSERT INTO `action_outcomes` (`arm`, `successes`, `failures`, `updated_at`)
SELECT substr(`key`, 28), json_extract(`value`, '$.successes'), json_extract(`value`, '$.failures'), `updated_at`
FROM `settings` WHERE `key` LIKE 'prediction_action_outcomes:%';
--> statement-breakpoint
DELETE FROM `settings` WHERE `key` LIKE 'prediction_action_outcomes:%';
