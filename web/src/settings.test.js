import { describe, expect, it } from 'vitest';
import { KNOBS, PRESETS, parseHash, readKnob, readPretrainOptions, runSettings, toHash } from './settings.js';

describe('URL hash settings', () => {
  it('defaults to the default preset on WebGPU', () => {
    expect(parseHash('')).toEqual({ settings: { preset: 'default' }, backend: 'auto', lang: null, errors: [] });
    expect(parseHash('#backend=webgpu').backend).toBe('webgpu');
    expect(toHash({ preset: 'tiny' }, 'webgpu')).toBe('#preset=tiny&backend=webgpu');
    expect(parseHash('#backend=measure').backend).toBe('measure');
    expect(toHash({ preset: 'tiny' }, 'measure')).toBe('#preset=tiny&backend=measure');
    expect(toHash({ preset: 'tiny' }, 'auto')).toBe('#preset=tiny');
    expect(toHash({ preset: 'tiny' }, 'auto')).toBe('#preset=tiny');
    expect(parseHash(undefined).errors).toEqual([]);
  });

  it('round-trips a configuration', () => {
    const settings = { preset: 'tiny', seed: 3, num_generations: 4, learning_rate: 0.0005, beta: 0.04, loss_type: 'dr_grpo' };
    const hash = toHash(settings, 'cpu');
    expect(hash).toBe('#preset=tiny&seed=3&num_generations=4&learning_rate=0.0005&beta=0.04&loss_type=dr_grpo&backend=cpu');
    expect(parseHash(hash)).toEqual({ settings, backend: 'cpu', lang: null, errors: [] });
    expect(toHash({ preset: 'default' })).toBe('#preset=default');
  });

  it('names every bad part and keeps the good ones', () => {
    const { settings, backend, errors } = parseHash('#preset=huge&seed=-1&beta=abc&lr=1&loss_type=ppo&backend=tpu&epsilon=0.3');
    expect(settings).toEqual({ preset: 'default', epsilon: 0.3 });
    expect(backend).toBe('auto');
    expect(errors).toEqual([
      'unknown preset "huge"; choose one of default, ablation, tiny',
      'seed must be a whole number ≥ 0, got "-1"',
      'beta must be a number, got "abc"',
      'unknown setting "lr"',
      'loss_type must be one of grpo, dr_grpo, dapo, got "ppo"',
      'backend must be webgpu, cpu, measure, got "tpu"',
    ]);
  });

  it('reads numbers strictly', () => {
    expect(readKnob('learning_rate', '3e-4')).toBe(0.0003);
    expect(readKnob('temperature', ' 0.7 ')).toBe(0.7);
    expect(() => readKnob('temperature', '')).toThrow('temperature must be a number');
    expect(() => readKnob('temperature', 'Infinity')).toThrow('temperature must be a number');
    expect(() => readKnob('num_generations', '2.5')).toThrow('whole number');
    expect(() => readKnob('num_generations', '1e30')).toThrow('whole number');
    expect(() => readKnob('colour', '1')).toThrow('unknown setting "colour"');
  });

  it('stops sizes a 32-bit usize cannot hold, by name; the Worker checks the real bounds', () => {
    expect(readKnob('max_completion_length', '4294967295')).toBe(4294967295);
    expect(() => readKnob('max_completion_length', '4294967296')).toThrow('max_completion_length is far too large');
    expect(() => readKnob('prompts_per_step', '9007199254740991')).toThrow('prompts_per_step is far too large');
    // A seed is a u64 on every target: any safe integer is a seed.
    expect(readKnob('seed', '9007199254740991')).toBe(9007199254740991);
  });

  it('maps page presets to GRPO presets and base models', () => {
    expect(runSettings({ preset: 'ablation', seed: 1 })).toEqual({ preset: 'default', seed: 1 });
    expect(PRESETS.ablation.model).toBe('base-model-no-check/');
    for (const preset of Object.values(PRESETS)) expect(['default', 'tiny']).toContain(preset.grpo);
    expect(KNOBS.map((knob) => knob.name)).toContain('num_generations');
  });

  it('carries the chosen language in the link, and names a language it does not speak', () => {
    expect(toHash({ preset: 'tiny' }, 'cpu', 'zh')).toBe('#preset=tiny&backend=cpu&lang=zh');
    expect(toHash({ preset: 'tiny' }, 'auto', null)).toBe('#preset=tiny');
    expect(parseHash('#preset=tiny&lang=zh')).toEqual({ settings: { preset: 'tiny' }, backend: 'auto', lang: 'zh', errors: [] });
    const { lang, errors } = parseHash('#lang=fr');
    expect(lang).toBeNull();
    expect(errors).toEqual(['lang must be en, zh, got "fr"']);
  });

  it('reads the base model form, naming a bad field', () => {
    expect(readPretrainOptions('marked-check', ' 2600 ', '0')).toEqual({ recipe: 'marked-check', steps: 2600, seed: 0 });
    expect(readPretrainOptions('no-check', '3', '7')).toEqual({ recipe: 'no-check', steps: 3, seed: 7 });
    expect(() => readPretrainOptions('marked-check', '2', '0')).toThrow('steps must be a whole number from 3 to 2600, got "2"');
    expect(() => readPretrainOptions('marked-check', '2601', '0')).toThrow('from 3 to 2600');
    expect(() => readPretrainOptions('marked-check', '10.5', '0')).toThrow('from 3 to 2600');
    expect(() => readPretrainOptions('marked-check', '10', '-1')).toThrow('the seed must be a whole number ≥ 0, got "-1"');
    expect(() => readPretrainOptions('marked-check', '10', '')).toThrow('the seed must be');
  });
});
