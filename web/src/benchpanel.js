// The "Speed and memory" panel: the bench figures of this run, and the wasm download and matmul
// peak, measured once when the panel is first opened.
import { describeBench, peakFigures } from './bench.js';
import { $, showError } from './dom.js';
import { el } from './feed.js';
import { onLanguage, ui } from './i18n.js';

export class BenchPanel {
  #download = null; // {raw_bytes, gzip_bytes} of the wasm
  #peak = null; // the matmul peak {shape, gflops, ...} (null on the CPU)
  #measuring = false;

  /**
   * `figures()` is the run's `BenchFigures` as they are now; `frames` queues the redraw;
   * `requests` asks the Worker for the measurements.
   */
  constructor(figures, frames, requests) {
    this.figures = figures;
    this.frames = frames;
    $('#bench').addEventListener('toggle', async (event) => {
      if (!event.target.open || this.#download !== null || this.#measuring) return;
      this.#measuring = true;
      try {
        ({ download: this.#download, peak: this.#peak } = await requests.send('measure'));
        this.draw();
      } catch (error) {
        showError($('#bench-error'), () => ui().bench.couldNotMeasure(error.message));
      } finally {
        this.#measuring = false;
      }
    });
    onLanguage(() => this.draw());
  }

  /** Queues the panel's redraw, from the figures as they are when it runs. */
  draw() {
    this.frames.add('bench', () => {
      const summary = this.figures().summary();
      const [download, peak] = [this.#download, this.#peak];
      // Machine-readable too: `cargo xtask bench --browser` reads the figures from here.
      $('#bench-table').dataset.summary = JSON.stringify({ ...summary, ...peakFigures(summary, peak), download });
      const rows = describeBench(summary, download, peak).map(([label, value]) => {
        const head = el('th', null, label);
        head.scope = 'row';
        const row = el('tr');
        row.append(head, el('td', null, value));
        return row;
      });
      $('#bench-table').replaceChildren(...rows);
    });
  }
}
