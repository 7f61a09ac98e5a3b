// Human output of a state run: it lives below the CLI (src/engine/report-text.ts), shared with `orch jobs`.
export { formatRunReport } from '../../engine/report-text.js';
