import type { TaskFilter } from "../../schemas/operator-api";

/**
 * The WHERE clause of a task filter, with numbered parameters starting after `offset`. One
 * builder for listing and for freezing a replay plan, so an operator's list and plan always agree.
 *   status = ?1 AND entity = ?2 AND last_failed_at >= ?3 …
 */
export function taskFilterSql(filter: TaskFilter & { ids?: string[] }, offset = 0, alias = "") {
  const where: string[] = [];
  const args: unknown[] = [];
  const col = (name: string) => `${alias ? `${alias}.` : ""}${name}`;
  const add = (clause: string, value: unknown) => {
    args.push(value);
    where.push(clause.replace("?", `?${offset + args.length}`));
  };
  if (filter.status) add(`${col("status")} = ?`, filter.status);
  if (filter.entity) add(`${col("entity")} = ?`, filter.entity);
  if (filter.queue) add(`${col("queue")} = ?`, filter.queue);
  if (filter.error_code) add(`${col("error_code")} = ?`, filter.error_code);
  if (filter.group) add(`${col("group_id")} = ?`, filter.group);
  if (filter.job) add(`${col("last_job_id")} = ?`, filter.job);
  if (filter.since) add(`${col("last_failed_at")} >= ?`, filter.since);
  if (filter.until) add(`${col("last_failed_at")} < ?`, filter.until);
  if (filter.min_attempts !== undefined) add(`${col("attempts")} >= ?`, filter.min_attempts);
  if (filter.max_attempts !== undefined) add(`${col("attempts")} <= ?`, filter.max_attempts);
  if (filter.ids) add(`${col("id")} IN (SELECT value FROM json_each(?))`, JSON.stringify(filter.ids));
  return { sql: where.length ? where.join(" AND ") : "true", args };
}
