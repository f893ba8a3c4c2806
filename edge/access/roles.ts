/** The roles a secret key can have. Pure, so the console shares it with the Worker. */
export const ROLES = ['admin', 'marketer', 'analyst', 'compliance'] as const
export type Role = (typeof ROLES)[number]
