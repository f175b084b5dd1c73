export async function plotCommand(_argv: readonly string[]): Promise<number> {
  return 1;
}
