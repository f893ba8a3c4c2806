CREATE TABLE `prediction_fits` (
	`id` text PRIMARY KEY NOT NULL,
	`fitted_at` text NOT NULL,
	`source` text NOT NULL,
	`customers` integer NOT NULL,
	`bgnbd` text NOT NULL,
	`gamma_gamma` text,
	`log_likelihood` real NOT NULL,
	`settings` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `contact_predictions_by_value` ON `contact_predictions` (coalesce("clv", 0) * "churn_risk", `contact_key`);