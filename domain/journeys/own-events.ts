/**
 * Events Cairn writes to a contact's timeline when a journey changes the contact (the contact's
 * object and the simulator write the same), so segments and other journeys can react to them.
 */
export const TRAITS_UPDATED_EVENT = 'Traits Updated'
export const ADDED_TO_LIST_EVENT = 'Added to List'
export const REMOVED_FROM_LIST_EVENT = 'Removed from List'
