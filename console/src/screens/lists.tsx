export function Lists() {
  return (
    <main id="main">
      <h1>Lists</h1>
    </main>
  );
}
export function ListPage({ id }: { id: string }) {
  return (
    <main id="main">
      <h1>List {id}</h1>
    </main>
  );
}
