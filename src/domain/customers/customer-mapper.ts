import type { Customer, CustomerStatistics, CustomerTiny } from '../../contract/customers.js';
import type { CustomerRow } from '../../store/repositories/customer-repository.js';
import { formatMillis, formatSeconds } from '../time.js';

export function customerRowToStatistics(row: CustomerRow): CustomerStatistics {
  const statistics: CustomerStatistics = {};
  if (row.last_points_earned_at !== null) statistics.lastPointsEarnedAt = formatMillis(row.last_points_earned_at);
  if (row.last_points_redeemed_at !== null) statistics.lastPointsRedeemedAt = formatMillis(row.last_points_redeemed_at);
  if (row.last_spent_at !== null) statistics.lastSpentAt = formatMillis(row.last_spent_at);
  statistics.pointsBalance = row.points_balance;
  statistics.totalPointsEarned = row.total_points_earned;
  statistics.totalPointsRedeemed = row.total_points_redeemed;
  statistics.totalSpend = row.total_spend;
  return statistics;
}

/** The API shape of a stored customer; absent values are omitted, never null. */
export function customerRowToCustomer(row: CustomerRow): Customer {
  const customer: Customer = {
    createdAt: formatSeconds(row.created_at),
    firstName: row.first_name,
    id: row.id,
    lastName: row.last_name,
    statistics: customerRowToStatistics(row),
    updatedAt: formatSeconds(row.updated_at),
  };
  if (row.dob !== null) customer.dob = row.dob;
  if (row.email !== null) customer.email = row.email;
  if (row.gender !== null) customer.gender = row.gender;
  if (row.has_agreed_to_marketing !== null) customer.hasAgreedToMarketing = row.has_agreed_to_marketing === 1;
  if (row.phone_number !== null) customer.phoneNumber = row.phone_number;
  return customer;
}

export function customerRowToTiny(
  row: Pick<CustomerRow, 'id' | 'email' | 'first_name' | 'last_name' | 'phone_number'>,
): CustomerTiny {
  const tiny: CustomerTiny = { firstName: row.first_name, id: row.id, lastName: row.last_name };
  if (row.email !== null) tiny.email = row.email;
  if (row.phone_number !== null) tiny.phoneNumber = row.phone_number;
  return tiny;
}

/**
 * A strong ETag for the stored customer. updatedAt (epoch ms) changes with
 * every stored change of the customer, statistics included, and never repeats
 * within an organization.
 */
export function customerRowToETag(row: Pick<CustomerRow, 'organization_id' | 'id' | 'updated_at'>): string {
  // No hash needed: the id and the strictly increasing updatedAt already identify this version, and both are in
  // the body anyway. A plain string keeps the hottest read free of a SHA-256 per request.
  return `"${row.id}-${row.updated_at.toString(36)}"`;
}
