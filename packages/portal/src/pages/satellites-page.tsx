/** Satellites: the authority's satellites, once the server has them. */
export function SatellitesPage() {
  return (
    <>
      <h1>Satellites</h1>
      <p>Satellites are not available yet on this server.</p>
    </>
  );
}

/** Synchronization (on a satellite): its health and synchronization, once the server has them. */
export function SyncPage() {
  return (
    <>
      <h1>Synchronization</h1>
      <p>Synchronization is not available yet on this server.</p>
    </>
  );
}
