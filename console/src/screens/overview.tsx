export function Overview() {
  return (
    <main id="main">
      <h1>Overview</h1>
    </main>
  );
}
