import type { Command } from "../context";
import { audit } from "./audit";
import { backfill } from "./backfill";
import { cancel } from "./cancel";
import { failed } from "./failed";
import { group } from "./group";
import { hubspot } from "./hubspot";
import { groups } from "./groups";
import { integrity } from "./integrity";
import { jobs } from "./jobs";
import { plan } from "./plan";
import { reconcile } from "./reconcile";
import { regressions } from "./regressions";
import { replay } from "./replay";
import { resolveRegression } from "./resolve-regression";
import { show } from "./show";
import { status } from "./status";
import { tokens } from "./tokens";
import { watch } from "./watch";

/** In the order an operator meets them: is it healthy, what failed, why, replay, follow, check. */
export const COMMANDS: Record<string, Command> = {
  status,
  reconcile,
  regressions,
  "resolve-regression": resolveRegression,
  backfill,
  integrity,
  failed,
  show,
  groups,
  group,
  plan,
  replay,
  jobs,
  watch,
  cancel,
  audit,
  tokens,
  hubspot,
};
