// The softphone's two AudioWorklet processors (loaded by softphone.js with addModule).
//   softphone-capture: microphone -> 16 kHz 16-bit little-endian PCM, posted in 20 ms
//     chunks (640 bytes) to the page, which sends each as one binary WebSocket frame.
//   softphone-playback: the receptionist's 16 kHz PCM -> a ring buffer at the context's
//     rate; reports each turn's end once playback has passed it; "flush" empties it at
//     once (barge-in) and reports every pending turn as played.
"use strict";

const WIRE_RATE = 16000;
const CHUNK_SAMPLES = 320; // 20 ms at 16 kHz

class SoftphoneCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / WIRE_RATE; // input samples per output sample
    this.acc = 0; // sum of input samples in the current output interval
    this.count = 0; // how many
    this.pos = 0; // input samples consumed towards the next output sample
    this.chunk = new Int16Array(CHUNK_SAMPLES);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) {
      for (let i = 0; i < channel.length; i++) {
        // Box-average every input sample of one output interval (a cheap low-pass).
        this.acc += channel[i];
        this.count += 1;
        this.pos += 1;
        if (this.pos >= this.step) {
          this.pos -= this.step;
          const value = Math.max(-1, Math.min(1, this.acc / this.count));
          this.acc = 0;
          this.count = 0;
          this.chunk[this.filled++] = value < 0 ? value * 0x8000 : value * 0x7fff;
          if (this.filled === CHUNK_SAMPLES) {
            const bytes = new ArrayBuffer(CHUNK_SAMPLES * 2);
            const view = new DataView(bytes);
            for (let j = 0; j < CHUNK_SAMPLES; j++) view.setInt16(j * 2, this.chunk[j], true);
            this.port.postMessage(bytes, [bytes]);
            this.filled = 0;
          }
        }
      }
    }
    return true;
  }
}

class SoftphonePlayback extends AudioWorkletProcessor {
  constructor() {
    super();
    this.size = sampleRate * 30; // up to 30 s queued
    this.ring = new Float32Array(this.size);
    this.read = 0; // absolute sample counts (not wrapped)
    this.write = 0;
    this.marks = []; // [{turn, at}] in order of `at`
    this.step = WIRE_RATE / sampleRate; // wire samples per output sample
    this.phase = 0;
    this.last = 0;
    this.port.onmessage = (event) => this.receive(event.data);
  }

  receive(message) {
    if (message.type === "audio") {
      this.enqueue(new DataView(message.pcm));
    } else if (message.type === "mark") {
      this.marks.push({ turn: message.turn, at: this.write });
      this.settle();
    } else if (message.type === "flush") {
      this.read = this.write;
      this.settle();
    }
  }

  enqueue(view) {
    // Linear interpolation from 16 kHz up to the context's rate.
    const count = view.byteLength >> 1;
    for (let i = 0; i < count; i++) {
      const sample = view.getInt16(i * 2, true) / 0x8000;
      while (this.phase < 1) {
        if (this.write - this.read >= this.size) return; // full: drop the rest
        this.ring[this.write % this.size] = this.last + (sample - this.last) * this.phase;
        this.write += 1;
        this.phase += this.step;
      }
      this.phase -= 1;
      this.last = sample;
    }
  }

  settle() {
    while (this.marks.length && this.marks[0].at <= this.read) {
      this.port.postMessage({ type: "played", turn: this.marks.shift().turn });
    }
  }

  process(inputs, outputs) {
    const out = outputs[0][0];
    for (let i = 0; i < out.length; i++) {
      if (this.read < this.write) {
        out[i] = this.ring[this.read % this.size];
        this.read += 1;
      } else {
        out[i] = 0;
      }
    }
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    if (this.marks.length) this.settle();
    return true;
  }
}

registerProcessor("softphone-capture", SoftphoneCapture);
registerProcessor("softphone-playback", SoftphonePlayback);
