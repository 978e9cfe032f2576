/**
 * One row of the instances report's raw read: an instance joined to one of its usage rows (tag
 * and count null when it has none), in the column order of {@link instanceReportSelect}.
 * Rows come in (registered_at, pid, sn) order, an instance's usage rows together by tag.
 */
export type InstanceReportRow = [
  id: string,
  pid: string,
  sn: string,
  hostname: string | null,
  softwareTag: string,
  registeredAt: number,
  lastContactAt: number,
  idCertSerial: string,
  idCertExpiresAt: number,
  exportControlled: number,
  tag: string | null,
  count: number | null,
  /** Whether the instance is a policy device: true or 1 when it is; only asked of instances silent long enough to show an alert (else false or 0). */
  policyDevice: boolean | number,
];

/**
 * The report's select list over `i` (a page of the VA's instances) and `u` (their usage),
 * shared by the SQLite and PostgreSQL readers so both answer {@link InstanceReportRow}s.
 * `alertFrom` is the placeholder of the last-contact time at or before which an instance
 * shows a silence alert: only those are looked up among the policy devices, which show none.
 */
export const instanceReportSelect = (
  alertFrom: string,
) => `i.id, i.pid, i.sn, i.hostname, i.software_tag, i.registered_at,
  i.last_contact_at, i.id_cert_serial, i.id_cert_expires_at, i.export_controlled, u.tag, u.count,
  case when i.last_contact_at <= ${alertFrom}
    then exists (select 1 from policy_devices p where p.instance_id = i.id) else false end`;

/** The instances columns the report reads (the select list's `i.` part). */
export const INSTANCE_REPORT_COLUMNS = `id, pid, sn, hostname, software_tag, registered_at, last_contact_at,
  id_cert_serial, id_cert_expires_at, export_controlled`;

/** The report's order: the instance list's keyset order, then an instance's usage by tag (as the paged list reads it). */
export const INSTANCE_REPORT_ORDER = 'i.registered_at, i.pid, i.sn, u.tag';

/**
 * Batches of raw rows, read as the consumer pulls them. Each batch must be consumed
 * synchronously before the next is asked for (a SQLite batch is a live statement iterator).
 */
export type InstanceRowSource = AsyncIterable<Iterable<InstanceReportRow>>;
