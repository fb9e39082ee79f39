// The main thread: starts the Worker, sends it what the person asks for and draws what it reports.
// No computation happens here; every handler is short so the page stays responsive while training:
// what a report changes on screen is queued and drawn a part per animation frame (frames.js).
import { Address } from './address.js';
import { wireAsk } from './ask.js';
import { BenchFigures } from './bench.js';
import { BenchPanel } from './benchpanel.js';
import { Charts, RunTable } from './charts.js';
import { $, say, show, showError, wordsOf } from './dom.js';
import { offerDownloads, runDownloads, wireModelExport } from './downloads.js';
import { showExperts } from './expertspanel.js';
import { drawGroup, pinCorrections } from './feed.js';
import { DistilPanel } from './distilpanel.js';
import { PretrainPanel } from './pretrainpanel.js';
import { count, describeBackend, describeRun, describeTask, runName } from './format.js';
import { FrameQueue } from './frames.js';
import { onLanguage, ui } from './i18n.js';
import { wireLessons } from './lessonspanel.js';
import { wireModelImport } from './modelfiles.js';
import { checkMessage, makeMessage } from './protocol.js';
import { Latest, Requests } from './requests.js';
import { IMPORTED, MADE_HERE } from './record.js';
import { SavedRunsView, savedAt } from './savedruns.js';
import { PRESETS, runSettings } from './settings.js';
import { SettingsForm, wireCopyLink } from './settingsform.js';

// --- state: the address (read first: it sets the language), the settings on show, the run the
// Worker has, its table of metrics
const address = new Address();
let settings = address.opened.settings;
let run = null; // {settings, config, parameters, source} of the Worker's current run (`config`: its RunConfig)
let backendInfo = null;
let table = new RunTable();
let previous = null; // {table, label} of the run before the current one, drawn faded for comparison
let lastReport = null;
/** The run asked for last (`askForRun`) and the resume (`resumeSaved`): a later one supersedes each. */
const runRequest = new Latest();
const resumeRequest = new Latest();
let bench = new BenchFigures();
/** Requests the Worker answers (`Requests`); `worker` is whichever Worker runs now. */
const requests = new Requests((kind, fields, transfer) => worker.postMessage(makeMessage(kind, fields), transfer));

const frames = new FrameQueue();

const benchPanel = new BenchPanel(() => bench, frames, requests);
const drawBench = () => benchPanel.draw();

const charts = new Charts($('#charts'));
const postKind = (kind) => worker.postMessage(makeMessage(kind));
const distilPanel = new DistilPanel(requests, postKind, frames, () => Number($('#run-state').dataset.steps));
const pretrainPanel = new PretrainPanel(requests, postKind, frames, (files) => runFromFiles(files, MADE_HERE));

// --- controls
const form = new SettingsForm($('#preset'), $('#knobs'));

/**
 * Asks the Worker for a fresh run with `next`. `linkErrors` are the address's values that were left
 * out: they stay on show once the run starts, so a shared link's bad value is never silently lost.
 * Returns the request (`askForRun`).
 */
function configure(next, linkErrors = []) {
  const model = PRESETS[next.preset].model;
  const fields = { settings: runSettings(next), page: { settings: next }, model };
  return askForRun('configure', fields, { settings: next, linkErrors, fallback: false });
}

/**
 * Sends `kind` (`configure` or `import`) for the run `asked` describes (`{settings, linkErrors?,
 * source?, fallback}`) and begins it when the Worker made it, or says why it did not, unless a
 * later request (another run, or a resume) superseded this one. Returns `asked`.
 */
function askForRun(kind, fields, asked, transfer = []) {
  const request = requests.send(kind, fields, null, transfer);
  runRequest.track(request, (reply) => runMade(asked, reply), (reason) => runRefused(asked, reason));
  return asked;
}

/**
 * Asks for a run of the settings on show from a model's files (`{weights, config, tokenizer}`),
 * imported or made in the page: `source` names it, kept with the saved run (`runName` says it in
 * the page's language).
 */
function runFromFiles({ weights, config, tokenizer }, source) {
  const fields = { settings: runSettings(settings), page: { settings, source }, weights, config, tokenizer };
  askForRun('import', fields, { settings, source, fallback: false }, [weights]);
}

/** The Worker made the run `asked` for. */
function runMade(asked, { run: config, parameters, task }) {
  const keepErrors = asked.fallback === true || (asked.linkErrors ?? []).length > 0;
  beginRun({ settings: asked.settings, config, parameters, task, source: asked.source }, { keepErrors });
}

/** The Worker refused the run `asked` for, saying why in `reason`. */
function runRefused(asked, reason) {
  const target = asked.source ? $('#files-error') : $('#settings-error');
  if (run) {
    showError(target, () => ui().status.refusedKeepRun(reason));
    // The address keeps describing the run that is on show, not the refused one.
    address.restore();
  }
  else showError(target, [...(asked.linkErrors ?? []), reason].join('; '));
  if (run === null && Object.keys(asked.settings).length > 1) {
    // A bad link must still open a working page: fall back to the plain preset.
    settings = { preset: asked.settings.preset };
    configure(settings).fallback = true;
  }
}

/** Queues every chart's redraw, one chart per frame, from the table as it is when each runs. */
function drawCharts() {
  charts.addExpertsChart(table);
  for (const id of charts.ids()) {
    frames.add(`chart ${id}`, () => charts.drawOne(id, table, $('#overlay').checked ? (previous?.table ?? null) : null));
  }
}

/** Queues the charts' step count, the sign (for people and tests) that what came before is drawn. */
function showStepCount(steps) {
  frames.add('step count', () => {
    $('#charts').dataset.steps = String(steps);
  });
}

function showComparison() {
  const line = $('#comparison');
  line.hidden = previous === null || !$('#overlay').checked;
  const label = previous?.label;
  say(line, () => (label ? ui().status.comparison(label()) : ''));
}

function setRunning(running, steps) {
  const state = $('#run-state');
  state.dataset.running = String(running);
  state.dataset.steps = String(steps);
  const about = run;
  show(state, () => ui().status.run(runName(about === null ? null : { settings: about.settings }), steps, running));
  say($('#train'), () => (running ? ui().button.pause : ui().button.train));
  $('#train').disabled = run === null || workerBroken;
  $('#step').disabled = running || run === null || workerBroken;
}

// --- the Worker
let worker = null;
/** The id of the run a fresh Worker resumes once it has started (after a lost GPU or a crash), or null. */
let resumeOnReady = null;
/** Set when this Worker lost its GPU or trapped: nothing runs until a resume or reset in a fresh one. */
let workerBroken = false;
/** The id of the run whose save the lost-GPU (or crash) offer resumes. */
let lostRun = null;

/** Starts a Worker (a fresh wasm module and GPU device) and its backend. */
function startWorker() {
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (event) => {
    let message;
    try {
      message = checkMessage(event.data);
    } catch (error) {
      showError($('#run-error'), () => ui().status.workerUnreadable(error.message));
      return;
    }
    if (requests.settle(message)) return;
    // Each handler takes its own kind of message; `checkMessage` checked this one's fields.
    const handler = /** @type {((message: any) => void) | undefined} */ (on[message.kind]);
    handler?.(message);
  };
  worker.onerror = (event) => {
    show($('#backend'), () => ui().status.workerFailedToStart(event.message), 'error');
  };
  worker.postMessage(makeMessage('init', { prefer: address.backend, baseUrl: document.baseURI }));
}

/** Asks the Worker to continue saved run `runId` in place of the current run. */
function resumeSaved(runId) {
  $('#resume').disabled = true;
  savedRuns.setBusy(true);
  const modelLine = wordsOf($('#model'));
  show($('#model'), () => ui().status.resuming, 'loading');
  resumeRequest.track(requests.send('resume', { run: runId }), runResumed, (reason) => resumeRefused(modelLine, reason));
}

/** The Worker continued a saved run: it replaces the run on show, with its log drawn again. */
function runResumed(message) {
  runRequest.drop(); // a fresh run asked for before the resume is superseded
  $('#resume-offer').hidden = true;
  savedRuns.setBusy(false);
  const { settings: resumedSettings, source } = message.page;
  beginRun({ settings: resumedSettings, config: message.run, parameters: message.parameters, task: message.task, source }, { keepErrors: false });
  const steps = message.log.filter((entry) => entry.kind === 'stepped');
  for (const entry of message.log) {
    if (entry.kind === 'evaluated') table.addEval(entry.row);
    else addStep(entry.report);
  }
  drawCharts();
  if (steps.length > 0) showLatest(steps.at(-1).report);
  show($('#model'), () => ui().status.resumed(message.steps, count(message.parameters)), 'ready');
  show($('#saved'), () => ui().status.resumedFrom(message.steps), 'saved');
  $('#saved').dataset.steps = String(message.steps);
}

/** The Worker could not resume: the run on show stays (after a lost GPU it cannot step, and the error says why). */
function resumeRefused(modelLine, reason) {
  const usable = run !== null && !workerBroken;
  show($('#model'), usable ? modelLine : () => ui().status.noRunReset, usable ? 'ready' : 'error');
  showError($('#run-error'), () => ui().status.couldNotResume(reason));
  $('#resume').disabled = false;
  savedRuns.setBusy(false);
}

const savedRuns = new SavedRunsView($('#saved-runs'), $('#saved-list'), {
  onResume: resumeSaved,
  onDelete: (runId) => worker.postMessage(makeMessage('forget', { run: runId })),
});

/** The run now on show is `about` (`{settings, config, parameters, source}`): clears every view. */
function beginRun(about, { keepErrors }) {
  const finished = run; // the run `table` belongs to
  run = about;
  workerBroken = false;
  settings = run.settings;
  const { source, parameters, config } = run;
  show($('#model'), () => ui().status.loaded(source === undefined ? ui().status.baseModel : runName({ source }), count(parameters)), 'ready');
  say($('#ask-task'), () => ui().status.askTask(describeTask(config.grpo.task)));
  address.write(settings);
  if (table.rows().some((row) => typeof row.reward_mean === 'number')) {
    const [about, steps] = [finished, table];
    previous = { table, label: () => describeRun(about, steps) };
  }
  table = new RunTable();
  if (finished !== null) bench = new BenchFigures(performance.now(), 'reset');
  drawBench();
  lastReport = null;
  charts.clear();
  drawCharts();
  showComparison();
  // No step on show from now, as the group and gallery below are cleared now; the queued count
  // replaces one the last run may still have queued.
  $('#charts').dataset.steps = '0';
  showStepCount(0);
  $('#group').replaceChildren();
  $('#gallery').replaceChildren();
  $('#experts-view').replaceChildren();
  show($('#experts-heading'), () => ui().group.expertsPrompt);
  show($('#group-heading'), () => ui().group.none);
  $('#downloads').replaceChildren();
  form.fill(settings, run);
  for (const id of ['#train', '#reset', '#ask-button', '#export-model', '#trap']) $(id).disabled = false;
  distilPanel.setUsable(true);
  $('#lose-device').disabled = backendInfo?.kind !== 'webgpu';
  if (!keepErrors) showError($('#settings-error'), '');
  showError($('#run-error'), '');
  show($('#saved'), () => ui().status.notSaved, 'none');
  $('#saved').dataset.steps = '-1';
}

/** Adds a step's report to the table and the gallery. */
function addStep(report) {
  table.addStep(report);
  pinCorrections($('#gallery'), report.corrections);
}

/** Draws the latest step's group, if there is one, as the "only corrections" box asks. */
function drawLatestGroup() {
  if (lastReport) drawGroup($('#group'), $('#group-heading'), lastReport, $('#only-corrections').checked, (text) => showExperts(requests, text));
}

/** Shows `report` as the latest step: its group, and the charts' step count (queue it last). */
function showLatest(report) {
  lastReport = report;
  frames.add('group', drawLatestGroup);
  showStepCount(report.metrics.step + 1);
}

/** @type {import('./protocol.js').Handlers} */
const on = {
  ready(message) {
    const failed = message.selfTest === 54 ? null : message.selfTest;
    show($('#backend'), () => ui().backend.line(describeBackend(message.backend, message.why), failed), message.backend.kind);
    // For the bench: how the wasm was built and how many threads the CPU backend uses.
    $('#backend').dataset.simd = String(message.build.simd128);
    $('#backend').dataset.threads = String(message.build.cpu_threads);
    backendInfo = message.backend;
    form.showPresets(message.presets);
    pretrainPanel.setUsable(true);
    bench.backendReady(performance.now());
  },
  savedRuns(message) {
    savedRuns.show(message.runs, message.damaged);
    if (resumeOnReady !== null) {
      const runId = resumeOnReady;
      resumeOnReady = null;
      resumeSaved(runId);
    }
  },
  saved(message) {
    show($('#saved'), () => ui().status.saved(message.steps, savedAt(message.saved_at)), 'saved');
    $('#saved').dataset.steps = String(message.steps);
  },
  unsaved(message) {
    show($('#saved'), () => ui().status.unsaved(message.steps, message.message, message.savedSteps), 'unsaved');
  },
  lost(message) {
    workerBroken = true;
    for (const id of ['#train', '#step', '#ask-button', '#export-model', '#lose-device', '#trap']) $(id).disabled = true;
    $('#reset').disabled = false; // a reset starts a fresh Worker
    distilPanel.setUsable(false);
    pretrainPanel.setUsable(false);
    const what = () => (message.cause === 'trap' ? ui().status.crashed(message.message) : ui().status.gpuLost(message.message));
    if (message.steps < 0) {
      showError($('#run-error'), () => ui().status.lostBeforeSave(what()));
      return;
    }
    lostRun = message.run;
    say($('#resume-text'), () => ui().status.lostOffer(what(), message.steps));
    $('#resume-offer').hidden = false;
    $('#resume').disabled = false;
  },
  state(message) {
    setRunning(message.running, message.steps);
  },
  evaluated(message) {
    bench.addEvaluation(message.row.step, message.ms, message.row, performance.now());
    table.addEval(message.row);
    drawCharts();
  },
  stepped({ report, memory }) {
    bench.addStep(report.metrics, performance.now(), memory);
    if (report.eval) bench.addEvaluation(report.eval.step, null, report.eval, performance.now());
    drawBench();
    const skipped = report.metrics.skipped_updates ?? 0;
    showError($('#run-warning'), skipped === 0 ? '' : () => ui().status.skipped(skipped));
    addStep(report);
    drawCharts();
    showLatest(report);
    // The status line counts steps as they finish, not only when training starts or pauses.
    setRunning($('#run-state').dataset.running === 'true', report.metrics.step + 1);
  },
  distilled: (message) => distilPanel.onUpdate(message),
  distilState: (message) => distilPanel.stopped(message),
  pretrained: (message) => pretrainPanel.onUpdate(message),
  pretrainState: (message) => pretrainPanel.stopped(message),
  error(message) {
    showError($('#run-error'), message.message);
    if (run === null) show($('#model'), () => ui().status.workerFailed(message.message), 'error');
  },
};

// --- after a lost GPU or a crash (the saved runs' list draws its own buttons)
/** A Worker that lost its GPU or trapped cannot compute again: the next one starts fresh. */
function restartWorker() {
  worker.terminate();
  requests.abandon('the compute backend was restarted before it answered');
  resumeRequest.drop();
  distilPanel.setUsable(false, { workerRestarted: true });
  pretrainPanel.setUsable(false, { workerRestarted: true });
  show($('#backend'), () => ui().status.restartingBackend, 'starting');
  startWorker();
}
$('#resume').addEventListener('click', () => {
  $('#resume').disabled = true;
  $('#resume-offer').hidden = true;
  restartWorker();
  show($('#model'), () => ui().status.resuming, 'loading');
  resumeOnReady = lostRun;
});
$('#forget').addEventListener('click', () => {
  worker.postMessage(makeMessage('forget', { run: lostRun }));
  $('#resume-offer').hidden = true;
});
$('#lose-device').addEventListener('click', () => worker.postMessage(makeMessage('loseDevice')));
$('#trap').addEventListener('click', () => worker.postMessage(makeMessage('trap')));

// --- buttons
$('#train').addEventListener('click', () => {
  const running = $('#run-state').dataset.running === 'true';
  if (!running) bench.trainPressed(performance.now());
  worker.postMessage(makeMessage(running ? 'pause' : 'train'));
});
$('#step').addEventListener('click', () => {
  bench.trainPressed(performance.now());
  worker.postMessage(makeMessage('step'));
});
$('#reset').addEventListener('click', () => {
  let next;
  try {
    next = form.read(run);
  } catch (error) {
    showError($('#settings-error'), error.message);
    return;
  }
  if (workerBroken) {
    $('#resume-offer').hidden = true;
    restartWorker(); // the Worker queues the new run after its start
    show($('#model'), () => ui().status.loadingModel, 'loading');
  }
  configure(next);
});
$('#settings').addEventListener('submit', (event) => {
  event.preventDefault();
  $('#reset').click();
});
$('#smoothing').addEventListener('change', (event) => {
  charts.smoothing = event.target.checked;
  drawCharts();
});
$('#overlay').addEventListener('change', () => {
  drawCharts();
  showComparison();
});

// --- lessons and presenter mode
wireLessons(charts);

$('#only-corrections').addEventListener('change', drawLatestGroup);
wireCopyLink($('#copy-link'), () => address.for(settings));
address.wire(
  () => settings,
  (next, errors) => {
    showError($('#settings-error'), errors.join('; '));
    // `settings` (what Copy link copies) changes only once the Worker accepts these.
    configure(next, errors);
  },
);

// --- prompt box
wireAsk(requests, () => workerBroken, () => (run ? describeTask(run.config.grpo.task) : ui().status.unknownTask));

// --- export and import
$('#export-run').addEventListener('click', () => {
  const link = new URL(address.for(settings), location.href).href;
  const about = { settings, link, run: run?.config ?? null, parameters: run?.parameters ?? null, backend: backendInfo };
  offerDownloads(runDownloads(table, { ...about, steps: Number($('#run-state').dataset.steps) }));
});
wireModelExport(requests, () => workerBroken);
wireModelImport($('#import-model'), $('#files-error'), (files) => runFromFiles(files, IMPORTED));

// --- a switch of language rewrites the page in place; what is drawn rather than written is redrawn
onLanguage(() => {
  charts.relabel();
  drawCharts();
  frames.add('group', drawLatestGroup);
});

// --- start
showError($('#settings-error'), address.opened.errors.join('; '));
form.fill(settings, run);
startWorker();
configure(settings, address.opened.errors);
