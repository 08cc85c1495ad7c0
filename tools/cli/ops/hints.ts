/** What to do about the errors an operator can fix from the command line. */
const HINTS: Record<string, string> = {
  QUARANTINED: "it failed again after repeated replays: fix the cause, then add --override",
  PLAN_SPANS_QUEUES: "a plan replays into one queue: add --queue to-d1|to-supabase or --entity",
  NOTHING_TO_REPLAY: "the filter matched no replayable task (see: npm run ops -- failed with the same filters)",
  JOB_ALREADY_RUNNING: "one job per queue at a time: npm run ops -- jobs --status running (watch or cancel it)",
  PLAN_ALREADY_EXECUTED: "a plan runs once: make a new plan",
  PLAN_EXPIRED: "the selection is stale: make a new plan",
  ALREADY_REPLAYING:
    "it was sent and has not settled yet: npm run ops -- show <task-id>; if it is stuck, add --override",
  TASK_EXPIRED: "the row may have been deleted since: replay it with --mode refresh to publish what the source holds",
  HUBSPOT_NOT_CONNECTED:
    "refresh reads the contact from HubSpot: connect the portal (console HubSpot page, or GET /v1/hubspot/connect), then replay again",
  OPERATOR_REQUIRED: "pass --operator NAME or set $SDS_OPERATOR (or use your own token: $SDS_OPERATOR_TOKEN)",
  OPERATOR_MISMATCH:
    "your operator token names someone else: drop --operator / $SDS_OPERATOR (the token says who you are)",
  OPERATOR_TOKEN_REQUIRED:
    "this worker requires your own token for changes: set $SDS_OPERATOR_TOKEN (an admin creates one: npm run ops -- tokens create <you> --reason ...)",
  TOKEN_REVOKED:
    "ask an admin for a new token (npm run ops -- tokens create <you> --reason ...) and set $SDS_OPERATOR_TOKEN",
  TOKEN_EXPIRED:
    "ask an admin for a new token (npm run ops -- tokens create <you> --reason ...) and set $SDS_OPERATOR_TOKEN",
  UNAUTHORIZED: "check --token / $SDS_OPERATOR_TOKEN / $ADMIN_TOKEN",
};

export const hintFor = (code: string): string | undefined => HINTS[code];
