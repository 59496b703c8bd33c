/** The report files a run can write, by flag. A light module: the CLI declares its options from it at start-up. */
export const REPORT_FORMATS = {
  out: { flag: '--out', what: 'the run document as JSON' },
  svg: { flag: '--svg', what: 'the chart as a self-contained SVG' },
  html: { flag: '--html', what: 'a self-contained HTML report' },
  markdown: { flag: '--markdown', what: 'a Markdown summary (for job summaries, PR comments)' },
  junit: { flag: '--junit', what: 'JUnit XML, one test case per run' },
  csv: { flag: '--csv', what: 'the per-reload samples as CSV' },
} as const;
export type ReportFormat = keyof typeof REPORT_FORMATS;
export const FORMAT_NAMES = Object.keys(REPORT_FORMATS) as ReportFormat[];

export interface ReportOptions extends Partial<Record<ReportFormat, string>> {
  json?: boolean;
  chart: boolean;
  /** false with --no-step-summary. */
  stepSummary: boolean;
  baseline?: string;
  baselineTolerance: number;
}

