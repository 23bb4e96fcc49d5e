export function CustomerPage({ id }: { id: string }) {
  return (
    <main id="main">
      <h1>Customer {id}</h1>
    </main>
  );
}
