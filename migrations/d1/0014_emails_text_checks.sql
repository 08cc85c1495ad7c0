-- D1 is the source of emails: its text obeys the registry's rule (schemas/fields.ts: no NUL)
-- whatever writes it, not only the email API, as its timestamps do (0009). A NUL cannot be stored
-- in Postgres text, so an email holding one would fail on every delivery to Supabase and stay in
-- failed_tasks until rewritten. (Lone UTF-16 surrogates, the rule's other refusal, cannot reach
-- SQLite as such: D1 stores what the worker's string becomes in UTF-8.) Only the columns an update
-- changes are checked, so a row written before this migration stays updatable.
CREATE TRIGGER emails_text_insert BEFORE INSERT ON emails
WHEN instr(NEW.to_email, char(0)) > 0 OR instr(NEW.from_email, char(0)) > 0 OR
  instr(NEW.subject, char(0)) > 0 OR instr(NEW.body, char(0)) > 0 OR
  instr(NEW.message_id, char(0)) > 0 OR instr(NEW.error, char(0)) > 0
BEGIN
  SELECT RAISE(ABORT, 'INVALID_TEXT: email text must not contain NUL (U+0000)');
END;

CREATE TRIGGER emails_text_update BEFORE UPDATE ON emails
WHEN (NEW.to_email IS NOT OLD.to_email AND instr(NEW.to_email, char(0)) > 0) OR
  (NEW.from_email IS NOT OLD.from_email AND instr(NEW.from_email, char(0)) > 0) OR
  (NEW.subject IS NOT OLD.subject AND instr(NEW.subject, char(0)) > 0) OR
  (NEW.body IS NOT OLD.body AND instr(NEW.body, char(0)) > 0) OR
  (NEW.message_id IS NOT OLD.message_id AND instr(NEW.message_id, char(0)) > 0) OR
  (NEW.error IS NOT OLD.error AND instr(NEW.error, char(0)) > 0)
BEGIN
  SELECT RAISE(ABORT, 'INVALID_TEXT: email text must not contain NUL (U+0000)');
END;
