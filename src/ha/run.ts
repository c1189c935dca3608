/** Agent entry point (wired up in the HA core issue). */
export async function runAgent(configPath: string | null): Promise<number> {
  console.error(`orchestrator: running the agent is not implemented yet (config: ${configPath ?? 'none'})`);
  return 1;
}
