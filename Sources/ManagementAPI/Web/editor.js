// Sequences: the list, and the editor — Name, Steps (Type and its fields, Move up, Move down, Delete), Add step,
// Save; live SMS length, dial-string check and total duration; the API's 422 problems at their fields; 412
// offers Reload or Overwrite; Preview (WAV, plot, cue sheet); revisions listed, compared and restored.
import { call, all, blobURL, etagOf, uploadsSettled } from './api.js';
import { h, vh, field, setProblem, say, confirmDelete, problemText, alertBox, lineDiff, phone, newID } from './dom.js';
import { smsLength } from './sms.js';
import { dialStringProblem, dtmfMilliseconds, seconds, HELP, DEFAULT_PROMPT_MS, MAX_SEQUENCE_MS } from './dtmf.js';
import { state, acct, show, go, can } from './app.js';

const TYPES = [['dtmf', 'DTMF'], ['recording', 'Recording'], ['sms', 'SMS']];
const FIELD_NAMES = { digits: 'Digits', recording: 'Recording', from: 'From', to: 'To', message: 'Message', type: 'Type' };

export async function sequencesPage() {
  const sequences = await all(`${acct()}/sequences`, 'sequences');
  const list = h('ul', { class: 'plain', 'aria-label': 'Sequences' });
  for (const s of sequences) {
    const del = h('button', { type: 'button', class: 'danger', text: 'Delete', 'aria-label': `Delete ${s.name}` });
    del.addEventListener('click', async () => {
      if (!(await confirmDelete(`Delete the sequence “${s.name}”? IVR options that run it must be changed first.`))) { del.focus(); return; }
      try {
        await call('DELETE', `${acct()}/sequences/${encodeURIComponent(s.id)}`, { etag: etagOf(s.revision) });
        say(`Deleted ${s.name}.`);
        await sequencesPage();
      } catch (error) {
        say(`Not deleted: ${problemText(error)}`);
        item.append(alertBox(`${s.name} was not deleted: ${problemText(error)}`));
        del.focus();
      }
    });
    const item = h('li', {},
      h('span', { class: 'name' }, h('a', { href: `#/sequences/${encodeURIComponent(s.id)}`, text: s.name })),
      h('span', { class: 'meta', text: `revision ${s.revision}` }), del);
    list.append(item);
  }
  const add = h('button', { type: 'button', text: 'Add sequence', on: { click: () => go('#/sequences/new') } });
  show('Sequences',
    h('p', { text: 'A sequence is what a caller hears and what is sent when they pick an IVR option: recordings, DTMF digits and text messages, in order.' }),
    h('div', { class: 'row' }, add),
    sequences.length ? list : h('p', { class: 'meta', text: 'No sequences yet.' }));
}

/// The editor of sequence `id` (null: a new one).
export async function editorPage(id) {
  await uploadsSettled();
  const [recordings, numbers] = await Promise.all([
    all(`${acct()}/recordings`, 'recordings'),
    all(`${acct()}/numbers`, 'numbers').catch(() => []),
  ]);
  let body = { name: '', steps: [] };
  let etag = null;
  if (id) {
    const answer = await call('GET', `${acct()}/sequences/${encodeURIComponent(id)}`);
    body = answer.data;
    etag = answer.etag;
  }
  const editor = new Editor({ id, etag, body, recordings, smsNumbers: numbers.filter((n) => n.sms).map((n) => n.number) });
  editor.render();
}

class Editor {
  constructor({ id, etag, body, recordings, smsNumbers }) {
    this.id = id;
    this.etag = etag;
    this.recordings = recordings;
    this.smsNumbers = smsNumbers;
    this.blobs = [];
    this.load(body);
  }

  load(body) {
    this.name = typeof body.name === 'string' ? body.name : '';
    this.steps = (Array.isArray(body.steps) ? body.steps : []).map((data) => ({ uid: newID('step'), data: { ...data }, stash: {} }));
    this.saved = JSON.stringify(body);
  }

  /// The body a save sends: {name, steps}, each step with its type first.
  body() {
    return {
      name: this.nameInput ? this.nameInput.value : this.name,
      steps: this.steps.map(({ data }) => {
        const { type, ...rest } = data;
        return { type, ...rest };
      }),
    };
  }

  dirty() { return JSON.stringify(this.body()) !== this.saved; }

  render() {
    const title = this.id ? `Edit sequence: ${this.name}` : 'New sequence';
    this.problems = h('div', { id: 'problems' });
    this.nameInput = h('input', { type: 'text', value: this.name, autocomplete: 'off', maxlength: '100', required: true });
    this.nameInput.addEventListener('input', () => { setProblem(this.nameInput, null); this.refresh(); });
    this.list = h('ol', { class: 'steps', 'aria-label': 'Steps' });
    this.addButton = h('button', { type: 'button', class: 'secondary', text: 'Add step', on: { click: () => this.addStep() } });
    this.duration = h('p', { id: 'duration', 'aria-live': 'off' });
    this.conflict = h('div', {});
    this.saveButton = h('button', { type: 'submit', text: 'Save' });
    this.previewButton = h('button', { type: 'button', class: 'secondary', text: 'Preview', on: { click: () => this.preview() } });
    this.previewArea = h('section', { 'aria-label': 'Preview' });
    this.revisionsArea = h('section', { 'aria-labelledby': 'revisions-heading' });
    const form = h('form', { novalidate: true },
      this.problems,
      field('Name', this.nameInput, 'What the IVR options show; at most 100 characters.'),
      h('h2', { id: 'steps-heading', text: 'Steps' }),
      this.list,
      h('div', { class: 'row' }, this.addButton),
      this.duration,
      this.conflict,
      h('div', { class: 'row' }, this.saveButton, this.previewButton, h('a', { href: '#/sequences', text: 'Back to the list' })));
    form.addEventListener('submit', (event) => { event.preventDefault(); this.save(); });
    show(title, form, this.previewArea, this.revisionsArea);
    this.renderSteps();
    if (this.id) this.renderRevisionsButton();
  }

  typeOptions(current) {
    // A reseller's client (or an account without SMS) is not offered SMS steps.
    return TYPES.filter(([value]) => value !== 'sms' || can('sms') || current === 'sms');
  }

  renderSteps(focus) {
    this.list.replaceChildren(...this.steps.map((step, index) => this.renderStep(step, index)));
    this.refresh();
    if (focus) focus();
  }

  renderStep(step, index) {
    const { data } = step;
    const controls = {};
    step.controls = controls;
    const type = h('select', { id: `${step.uid}-type` },
      this.typeOptions(data.type).map(([value, label]) => h('option', { value, text: label, selected: value === data.type })));
    type.addEventListener('change', () => this.changeType(step, type.value));
    controls.type = type;
    const legend = h('legend', { text: `Step ${index + 1} of ${this.steps.length}` });
    const fields = [field('Type', type)];
    if (data.type === 'dtmf') {
      const digits = h('input', { type: 'text', id: `${step.uid}-digits`, value: data.digits || '', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off' });
      digits.addEventListener('input', () => {
        data.digits = digits.value;
        setProblem(digits, dialStringProblem(digits.value));
        this.refresh();
      });
      controls.digits = digits;
      fields.push(field('Digits', digits, HELP));
    } else if (data.type === 'recording') {
      const choice = typeof data.recording === 'string' ? data.recording : 'default';
      const names = this.recordings.map((r) => r.name);
      const options = [h('option', { value: 'none', text: 'No recording', selected: choice === 'none' }),
        h('option', { value: 'default', text: 'System default', selected: choice === 'default' }),
        ...names.map((name) => h('option', { value: name, text: name, selected: name === choice }))];
      if (!['none', 'default', ...names].includes(choice)) options.push(h('option', { value: choice, text: `${choice} (missing)`, selected: true }));
      const select = h('select', { id: `${step.uid}-recording` }, options);
      select.addEventListener('change', () => { data.recording = select.value; setProblem(select, null); this.refresh(); });
      controls.recording = select;
      fields.push(field('Recording', select, names.length ? null : 'Upload recordings on the Recordings page to choose them here.'));
    } else if (data.type === 'sms') {
      const numbers = [...this.smsNumbers];
      if (data.from && !numbers.includes(data.from)) numbers.push(data.from);
      const from = h('select', { id: `${step.uid}-from` },
        numbers.length ? numbers.map((n) => h('option', { value: n, text: phone(n), selected: n === data.from }))
          : [h('option', { value: '', text: 'No SMS-enabled number' })]);
      if (!data.from && numbers.length) data.from = numbers[0];
      from.addEventListener('change', () => { data.from = from.value; setProblem(from, null); });
      const to = h('input', { type: 'tel', id: `${step.uid}-to`, value: data.to || '', autocomplete: 'off', inputmode: 'tel' });
      to.addEventListener('input', () => { data.to = to.value; setProblem(to, null); });
      const message = h('textarea', { id: `${step.uid}-message`, rows: '3' });
      message.value = data.message || '';
      const length = h('p', { class: 'help', id: `${step.uid}-message-length` });
      message.addEventListener('input', () => { data.message = message.value; this.checkMessage(message, length); });
      Object.assign(controls, { from, to, message });
      fields.push(field('From', from, 'One of the account’s SMS-enabled numbers.'),
        field('To', to, 'A 10-digit US/Canada number.'),
        field('Message', message));
      fields[fields.length - 1].append(length);
      message.dataset.help = length.id;
      message.setAttribute('aria-describedby', length.id);
      this.checkMessage(message, length, true);
    }
    const up = h('button', { type: 'button', class: 'secondary', text: 'Move up', disabled: index === 0, on: { click: () => this.move(step, -1) } });
    const down = h('button', { type: 'button', class: 'secondary', text: 'Move down', disabled: index === this.steps.length - 1, on: { click: () => this.move(step, 1) } });
    const del = h('button', { type: 'button', class: 'danger', text: 'Delete', on: { click: () => this.remove(step) } });
    Object.assign(controls, { up, down, del });
    const summary = h('p', { class: 'meta', id: `${step.uid}-summary` });
    controls.summary = summary;
    return h('li', { id: step.uid }, h('fieldset', {}, legend, h('div', { class: 'stepfields' }, ...fields), summary,
      h('div', { class: 'row' }, up, down, del)));
  }

  checkMessage(message, readout, quiet) {
    const length = smsLength(message.value);
    readout.textContent = length.text;
    readout.className = length.fits ? 'help' : 'help over';
    if (!length.fits) setProblem(message, `${length.text}. Shorten the message: one SMS is sent.`);
    else if (!quiet || message.getAttribute('aria-invalid')) setProblem(message, null);
  }

  addStep() {
    const step = { uid: newID('step'), data: { type: 'dtmf', digits: '' }, stash: {} };
    this.steps.push(step);
    this.renderSteps(() => step.controls.type.focus());
    say(`Step ${this.steps.length} added.`);
  }

  changeType(step, type) {
    step.stash[step.data.type] = step.data;
    const defaults = { dtmf: { type: 'dtmf', digits: '' }, recording: { type: 'recording', recording: 'default' },
      sms: { type: 'sms', from: this.smsNumbers[0] || '', to: '', message: '' } };
    step.data = step.stash[type] || defaults[type];
    this.renderSteps(() => step.controls.type.focus());
  }

  move(step, delta) {
    const from = this.steps.indexOf(step);
    const to = from + delta;
    if (from < 0 || to < 0 || to >= this.steps.length) return;
    this.steps.splice(from, 1);
    this.steps.splice(to, 0, step);
    this.renderSteps(() => {
      const button = delta < 0 ? step.controls.up : step.controls.down;
      (button.disabled ? (delta < 0 ? step.controls.down : step.controls.up) : button).focus();
    });
    say(`Step moved to position ${to + 1} of ${this.steps.length}.`);
  }

  remove(step) {
    const index = this.steps.indexOf(step);
    if (index < 0) return;
    this.steps.splice(index, 1);
    this.renderSteps(() => {
      const next = this.steps[Math.min(index, this.steps.length - 1)];
      (next ? next.controls.del : this.addButton).focus();
    });
    say(`Step ${index + 1} deleted; ${this.steps.length} left.`);
  }

  /// Each step's summary and the total duration, from the model's rules (recordings: their converted length).
  refresh() {
    let total = 0;
    let known = true;
    this.steps.forEach((step, index) => {
      const { data, controls } = step;
      let ms = 0;
      let text = '';
      if (data.type === 'dtmf') {
        const d = dtmfMilliseconds(data);
        if (d === null) { known = false; text = ''; } else { ms = d; text = `${seconds(d)} of tones and pauses`; }
      } else if (data.type === 'recording') {
        if (data.recording === 'none') text = 'Plays nothing';
        else if (data.recording === 'default' || data.recording === undefined) { ms = DEFAULT_PROMPT_MS; text = `Plays the system default prompt (“Thank you. Please hold.”), ${seconds(ms)}`; }
        else {
          const r = this.recordings.find((x) => x.name === data.recording);
          if (r) { ms = r.durationMs; text = `Plays ${r.name}, ${seconds(ms)}`; } else { known = false; text = 'This recording does not exist.'; }
        }
      } else if (data.type === 'sms') text = 'Sends the text when the step starts; takes no time on the call';
      total += ms;
      if (controls && controls.summary) controls.summary.textContent = text;
      if (controls && controls.type) controls.type.closest('fieldset').querySelector('legend').textContent = `Step ${index + 1} of ${this.steps.length}`;
    });
    const over = total > MAX_SEQUENCE_MS ? ` — over the ${seconds(MAX_SEQUENCE_MS)} limit` : '';
    this.duration.textContent = this.steps.length === 0 ? 'Total duration: 0 s (no steps yet)'
      : `Total duration: ${seconds(total)}${known ? '' : ' so far (some steps are not complete)'}${over}`;
    this.duration.className = over ? 'over' : '';
  }

  clearProblems() {
    this.problems.replaceChildren();
    setProblem(this.nameInput, null);
    for (const step of this.steps) {
      for (const key of ['type', 'digits', 'recording', 'from', 'to', 'message']) {
        const c = step.controls && step.controls[key];
        if (c && c.getAttribute('aria-invalid') && key !== 'message') setProblem(c, null);
      }
    }
  }

  /// The control an RFC 6901 pointer of the body names (or null).
  controlFor(pointer) {
    const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (parts[0] === 'name') return { control: this.nameInput, where: 'Name' };
    if (parts[0] === 'steps' && /^[0-9]+$/.test(parts[1] || '')) {
      const step = this.steps[Number(parts[1])];
      if (!step || !step.controls) return null;
      const key = parts[2];
      const control = step.controls[key] || (step.data.type === 'dtmf' && step.controls.digits) || step.controls.type;
      return { control, where: `Step ${Number(parts[1]) + 1}, ${FIELD_NAMES[key] || FIELD_NAMES[control === step.controls.type ? 'type' : step.data.type === 'dtmf' ? 'digits' : 'type']}` };
    }
    return null;
  }

  /// Shows problems (`[{pointer, detail}]`) at their fields; the first field gets focus.
  showProblems(problems, heading) {
    this.clearProblems();
    const items = [];
    let first = null;
    for (const { pointer, detail } of problems) {
      const target = this.controlFor(pointer || '');
      if (target) {
        setProblem(target.control, detail);
        if (!first) first = target.control;
        items.push(h('li', { text: `${target.where}: ${detail}` }));
      } else items.push(h('li', { text: pointer ? `${pointer}: ${detail}` : detail }));
    }
    this.problems.replaceChildren(alertBox(heading, h('ul', {}, items)));
    if (first) first.focus();
  }

  /// The problems the editor knows before asking the API.
  localProblems() {
    const problems = [];
    if (this.nameInput.value.trim() === '') problems.push({ pointer: '/name', detail: 'the name cannot be empty' });
    this.steps.forEach(({ data }, i) => {
      if (data.type === 'dtmf') {
        const p = dialStringProblem(data.digits || '');
        if (p) problems.push({ pointer: `/steps/${i}/digits`, detail: p });
      } else if (data.type === 'sms') {
        const length = smsLength(data.message || '');
        if (!length.fits) problems.push({ pointer: `/steps/${i}/message`, detail: `${length.text}. Shorten the message: one SMS is sent.` });
        if (!data.from) problems.push({ pointer: `/steps/${i}/from`, detail: 'the account has no SMS-enabled number to send from' });
      }
    });
    return problems;
  }

  async save(overwriteETag) {
    const body = this.body();
    const local = this.localProblems();
    if (local.length) {
      const n = local.length;
      this.showProblems(local, `Not saved: ${n} problem${n > 1 ? 's' : ''} to fix.`);
      say(`Not saved: ${n} problem${n > 1 ? 's' : ''}.`);
      return;
    }
    this.conflict.replaceChildren();
    this.saveButton.disabled = true;
    try {
      let answer;
      if (this.id) {
        answer = await call('PUT', `${acct()}/sequences/${encodeURIComponent(this.id)}`, { body, etag: overwriteETag || this.etag });
      } else {
        answer = await call('POST', `${acct()}/sequences`, { body });
        const location = answer.location || '';
        this.id = decodeURIComponent(location.slice(location.lastIndexOf('/') + 1));
        history.replaceState(null, '', `#/sequences/${encodeURIComponent(this.id)}`);
        this.renderRevisionsButton();
      }
      this.etag = answer.etag;
      this.saved = JSON.stringify(body);
      this.name = body.name;
      this.clearProblems();
      document.querySelector('h1').textContent = `Edit sequence: ${body.name}`;
      document.title = `Edit sequence: ${body.name} · CallSequence`;
      const revision = (answer.etag || '').replace(/"/g, '');
      say(`Saved ${body.name} (revision ${revision}).`);
      if (this.revisionList) await this.showRevisions();
    } catch (error) {
      this.failed(error);
    } finally {
      this.saveButton.disabled = false;
    }
  }

  failed(error) {
    if (error.status === 422 && Array.isArray(error.problem.errors)) {
      const n = error.problem.errors.length;
      this.showProblems(error.problem.errors, `Not saved: the server found ${n} problem${n > 1 ? 's' : ''}.`);
      say(`Not saved: ${n} problem${n > 1 ? 's' : ''}.`);
    } else if (error.status === 412) {
      this.staleConflict(error.etag);
    } else {
      this.problems.replaceChildren(alertBox(`Not saved: ${problemText(error)}`));
      say(`Not saved: ${problemText(error)}`);
      this.saveButton.focus();
    }
  }

  /// 412: someone saved this sequence since it was opened.
  staleConflict(current) {
    const reload = h('button', { type: 'button', class: 'secondary', text: 'Reload' });
    const overwrite = h('button', { type: 'button', class: 'danger', text: 'Overwrite' });
    const revision = (current || '').replace(/"/g, '');
    const box = alertBox(`Not saved: this sequence was changed elsewhere since you opened it${revision ? ` (it is now at revision ${revision})` : ''}. Reload it (your changes are lost) or overwrite it with yours.`,
      h('div', { class: 'row' }, reload, overwrite));
    reload.addEventListener('click', async () => {
      const answer = await call('GET', `${acct()}/sequences/${encodeURIComponent(this.id)}`);
      this.etag = answer.etag;
      this.load(answer.data);
      this.render();
      say('Reloaded the saved sequence.');
    });
    overwrite.addEventListener('click', () => this.save(current || '*'));
    this.conflict.replaceChildren(box);
    reload.focus();
  }

  releaseBlobs() {
    for (const url of this.blobs) URL.revokeObjectURL(url);
    this.blobs = [];
  }

  /// Preview: the cue sheet, the WAV a caller hears and the plot of the sequence as it is in the editor, saved
  /// or not (the API renders it with the pipeline calls use).
  async preview() {
    this.releaseBlobs();
    const local = this.localProblems();
    if (local.length) {
      this.showProblems(local, 'No preview: fix these first.');
      return;
    }
    const body = this.body();
    const path = `${acct()}/sequences`;
    this.previewArea.replaceChildren(h('h2', { text: 'Preview' }), h('p', { text: 'Rendering…' }));
    this.previewButton.disabled = true;
    try {
      const { data: timeline } = await call('POST', `${path}/timeline`, { body });
      const [wav, png] = await Promise.all([blobURL(`${path}/preview.wav`, body), blobURL(`${path}/plot.png`, body)]);
      this.blobs.push(wav, png);
      this.clearProblems();
      const cues = timeline.cues.map((c) => `step ${c.step + 1}: ${c.what}, ${seconds(c.startMs)} to ${seconds(c.endMs)}`);
      const alt = `Waveform and spectrogram of ${timeline.name}, ${seconds(timeline.durationMs)}, one band per step: ${cues.slice(0, 20).join('; ')}${cues.length > 20 ? '; …' : ''}`;
      const state = this.dirty() ? 'as it is in the editor (not saved yet)' : 'as saved';
      this.previewArea.replaceChildren(
        h('h2', { text: 'Preview' }),
        h('p', { text: `What a caller hears, ${state}: ${seconds(timeline.durationMs)} at ${timeline.sampleRate} Hz, DTMF in-band.` }),
        h('audio', { controls: true, src: wav, 'aria-label': `Audio of ${timeline.name}` }),
        h('figure', {}, h('img', { src: png, alt }),
          h('figcaption', {}, h('p', { text: 'Cue sheet:' }), h('ol', {}, timeline.cues.map((c) =>
            h('li', { text: `${c.what} — ${seconds(c.startMs)} to ${seconds(c.endMs)} (step ${c.step + 1})` }))))));
      this.previewArea.querySelector('audio').focus();
      say(`Preview ready: ${seconds(timeline.durationMs)}.`);
    } catch (error) {
      if (error.status === 422 && Array.isArray(error.problem.errors)) {
        this.previewArea.replaceChildren();
        this.showProblems(error.problem.errors, 'No preview: fix these first.');
      } else this.previewArea.replaceChildren(h('h2', { text: 'Preview' }), alertBox(`No preview: ${problemText(error)}`));
    } finally {
      this.previewButton.disabled = false;
    }
  }

  renderRevisionsButton() {
    const toggle = h('button', { type: 'button', class: 'secondary', text: 'Show revisions', 'aria-expanded': 'false' });
    toggle.addEventListener('click', async () => {
      if (this.revisionList) {
        this.revisionList.remove();
        this.revisionList = null;
        toggle.setAttribute('aria-expanded', 'false');
        toggle.textContent = 'Show revisions';
      } else {
        toggle.setAttribute('aria-expanded', 'true');
        toggle.textContent = 'Hide revisions';
        await this.showRevisions();
      }
    });
    this.revisionsArea.replaceChildren(h('h2', { id: 'revisions-heading', text: 'Revisions' }), toggle);
  }

  async showRevisions() {
    const path = `${acct()}/sequences/${encodeURIComponent(this.id)}`;
    const revisions = await all(`${path}/revisions`, 'revisions');
    const current = Number((this.etag || '').replace(/"/g, ''));
    const list = h('ul', { class: 'plain', 'aria-label': 'Revisions' });
    const diffArea = h('div', {});
    for (const r of revisions) {
      const when = new Date(r.time);
      const label = `Revision ${r.revision}, ${Number.isNaN(when.getTime()) ? r.time : when.toLocaleString()}${r.revision === current ? ' (current)' : ''}`;
      const compare = h('button', { type: 'button', class: 'secondary' }, 'Compare', vh(` revision ${r.revision} with the editor`));
      compare.addEventListener('click', async () => {
        const { data } = await call('GET', `${path}/revisions/${r.revision}`);
        const diff = lineDiff(JSON.stringify(data, null, 2), JSON.stringify(this.body(), null, 2));
        const changed = diff.filter((d) => d.kind !== ' ').length;
        diffArea.replaceChildren(h('h3', { tabindex: '-1', text: `Revision ${r.revision} (−) and the editor (+): ${changed ? `${changed} lines differ` : 'the same'}` }),
          h('pre', { class: 'diff' }, diff.map((d) => h('span', { class: d.kind === '+' ? 'add' : d.kind === '-' ? 'del' : null, text: `${d.kind} ${d.line}\n` }))));
        diffArea.querySelector('h3').focus();
      });
      const restore = h('button', { type: 'button', class: 'secondary', disabled: r.revision === current }, 'Restore', vh(` revision ${r.revision}`));
      restore.addEventListener('click', async () => {
        try {
          const answer = await call('POST', `${path}/revisions/${r.revision}/restore`, { etag: this.etag });
          this.etag = answer.etag;
          this.load(answer.data);
          this.render();
          say(`Restored revision ${r.revision} as revision ${(answer.etag || '').replace(/"/g, '')}.`);
        } catch (error) {
          if (error.status === 412) this.staleConflict(error.etag);
          else say(`Not restored: ${problemText(error)}`);
        }
      });
      list.append(h('li', {}, h('span', { class: 'name', text: label }), compare, restore));
    }
    if (this.revisionList) this.revisionList.remove();
    this.revisionList = h('div', {}, list, diffArea);
    this.revisionsArea.append(this.revisionList);
  }
}
