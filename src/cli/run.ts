// Process entry point: run the CLI and exit with its code.
import { main } from './main.js';

process.exitCode = await main();
