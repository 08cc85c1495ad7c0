import { expect } from "vitest";
import { CHAOS_SECRETS, type ChaosStack } from "../../chaos/chaos-stack";

/**
 * Sends an email through the worker's email API (D1-authoritative, so it replicates to Postgres).
 * For a prospect Postgres does not have, the to-supabase consumer dead-letters it (foreign key):
 * a real failure through the real pipeline. Returns the email's id.
 */
export async function sendEmail(stack: ChaosStack, prospectId: string, i: number): Promise<string> {
  const response = await fetch(`${stack.workerUrl}/v1/emails`, {
    method: "POST",
    headers: { authorization: `Bearer ${CHAOS_SECRETS.API_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({
      prospect_id: prospectId,
      to_email: `gm${i}@hotel.test`,
      from_email: "sales@crm.test",
      subject: `Hello ${i}`,
      body: "Hi",
      status: "sent",
      sent_at: new Date().toISOString(),
    }),
  });
  const json = (await response.json()) as { data?: { email?: { id: string } } };
  expect(response.status, JSON.stringify(json)).toBe(201);
  return json.data!.email!.id;
}
