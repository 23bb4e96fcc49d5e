export function Webhooks() {
  return (
    <main id="main">
      <h1>Webhooks</h1>
    </main>
  );
}
