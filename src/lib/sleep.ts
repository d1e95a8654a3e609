// Waiting between polls: what pxoci waits for (a process's end, a CT's stop, a file from the keeper)
// gives no event Node could wait on.
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
