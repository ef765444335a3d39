const INTEGER_FIELDS = ['rpm_limit', 'tpm_limit'];

/**
 * The API body from the filled fields only. When editing, "none" removes a limit (null); a number
 * that is not a whole number is sent as typed, so the API names the field in its error.
 */
export function keyBody(fields: Record<string, string>, editing: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(fields)) {
    const value = raw.trim();
    if (!value) continue;
    if (editing && value.toLowerCase() === 'none') body[name] = null;
    else if (INTEGER_FIELDS.includes(name)) body[name] = /^\d+$/.test(value) ? Number(value) : value;
    else if (name === 'allowed_models') body[name] = value.split(',').map((m) => m.trim()).filter(Boolean);
    else if (name === 'expires_at') body[name] = new Date(value).toISOString();
    else body[name] = value;
  }
  return body;
}
