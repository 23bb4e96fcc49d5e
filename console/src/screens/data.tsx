export function DataTransfer() {
  return (
    <main id="main">
      <h1>DataTransfer</h1>
    </main>
  );
}
