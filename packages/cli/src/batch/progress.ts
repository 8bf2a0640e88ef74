import type { LiveIo } from '../command.js';

/** At most this often the bar is redrawn: a thousand items a second should not mean a thousand writes. */
const REDRAW_MS = 100;
const WIDTH = 24;

/**
 * A one-line progress bar on a terminal's stderr: count, percentage, rate and ETA. Hand-written (30 lines)
 * rather than a dependency: it draws one line with \r and clears it, which is all a batch needs. Off the
 * terminal it draws nothing; item lines are written above it.
 */
export class Progress {
  readonly #io: LiveIo;
  readonly #total: number;
  readonly #started = Date.now();
  #done = 0;
  #drawnAt = 0;
  #visible = false;

  constructor(io: LiveIo, total: number) {
    this.#io = io;
    this.#total = total;
  }

  get elapsedSeconds(): number {
    return (Date.now() - this.#started) / 1000;
  }

  tick(): void {
    this.#done++;
    const now = Date.now();
    if (!this.#io.stderrIsTTY || (now - this.#drawnAt < REDRAW_MS && this.#done < this.#total)) return;
    this.#drawnAt = now;
    const seconds = Math.max(this.elapsedSeconds, 0.001);
    const rate = this.#done / seconds;
    const eta = rate > 0 ? (this.#total - this.#done) / rate : 0;
    const filled = this.#total > 0 ? Math.round((this.#done / this.#total) * WIDTH) : WIDTH;
    const percent = this.#total > 0 ? Math.floor((this.#done / this.#total) * 100) : 100;
    const bar = `${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}`;
    this.#io.stderr(
      `\r[${bar}] ${this.#done}/${this.#total} ${percent}% ${Math.round(rate)}/s ETA ${formatSeconds(eta)}\x1b[K`,
    );
    this.#visible = true;
  }

  /** Writes a line (an item's error) above the bar. */
  line(text: string): void {
    this.clear();
    this.#io.stderr(`${text}\n`);
  }

  clear(): void {
    if (this.#visible) this.#io.stderr('\r\x1b[K');
    this.#visible = false;
  }
}

function formatSeconds(seconds: number): string {
  const s = Math.ceil(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
