// The "Try it" page: one call to the receptionist from this browser.
// 1. POST the place URL (session cookie + CSRF header): the call is admitted and a
//    one-time token comes back. 2. Open the media WebSocket and send {"type":"start"}
//    with it. 3. Microphone -> capture worklet -> 20 ms binary frames; binary frames
//    from the server -> playback worklet. Control frames: "turn_end" (answered with
//    "played" once playback passed it), "interrupt" (flush now), "end" (what follows).
"use strict";
(function () {
  const box = document.getElementById("softphone");
  if (!box) return;
  const startButton = document.getElementById("softphone-start");
  const hangupButton = document.getElementById("softphone-hangup");
  const status = document.getElementById("softphone-status");
  const transcript = document.getElementById("softphone-transcript");
  const callLine = document.getElementById("softphone-call");
  const callLink = document.getElementById("softphone-call-link");
  const HANGUP_GRACE_MS = 5000;

  if (!window.AudioWorkletNode || !navigator.mediaDevices || !window.WebSocket) {
    status.textContent = "This browser cannot place calls (it lacks AudioWorklet or microphone access).";
    startButton.disabled = true;
    return;
  }

  let call = null; // {ws, context, stream, capture, playback, feed, id, ended}

  function say(text) {
    status.textContent = text;
  }

  function line(className, text) {
    const item = document.createElement("li");
    item.className = className;
    item.textContent = text;
    transcript.appendChild(item);
  }

  function setIdle() {
    startButton.disabled = false;
    hangupButton.disabled = true;
    if (document.activeElement === hangupButton || document.activeElement === document.body) {
      startButton.focus();
    }
  }

  async function place() {
    const response = await fetch(box.dataset.place, {
      method: "POST",
      credentials: "same-origin",
      headers: { "x-csrftoken": box.dataset.csrf, accept: "application/json" },
    });
    if (response.redirected || response.status === 401) {
      throw new Error("You have been signed out: reload the page and sign in again.");
    }
    if (!response.ok) throw new Error("The call could not be placed (HTTP " + response.status + ").");
    return response.json();
  }

  function watchTranscript(current) {
    if (!window.EventSource) return;
    const feed = new EventSource(box.dataset.feed);
    current.feed = feed;
    feed.addEventListener("call", function (message) {
      const event = JSON.parse(message.data);
      if (event.call !== current.id) return;
      if (event.type === "transcript") {
        const agent = event.speaker !== "caller";
        line(agent ? "agent" : "caller", (agent ? "Receptionist: " : "You: ") + event.text);
      } else if (event.type === "tool") {
        line("note", "Tool " + event.name + ": " + event.outcome);
      } else if (event.type === "barge_in") {
        line("note", "(you interrupted)");
      }
    });
  }

  function onControl(current, text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch (error) {
      return;
    }
    if (message.type === "started") {
      current.id = message.call_id;
      callLink.href = "/console/calls/" + encodeURIComponent(message.call_id);
      callLine.hidden = false;
      say("Connected: speak to your receptionist.");
      watchTranscript(current);
    } else if (message.type === "turn_end") {
      current.playback.port.postMessage({ type: "mark", turn: message.turn });
    } else if (message.type === "interrupt") {
      current.playback.port.postMessage({ type: "flush" });
    } else if (message.type === "end") {
      current.ended = true;
      say("Call over. " + message.message);
      stopMicrophone(current);
    }
  }

  function stopMicrophone(current) {
    if (current.stream) current.stream.getTracks().forEach(function (track) { track.stop(); });
    if (current.capture) current.capture.port.onmessage = null;
  }

  function teardown(current, code) {
    stopMicrophone(current);
    if (current.feed) current.feed.close();
    if (current.context) current.context.close();
    if (current.timer) clearTimeout(current.timer);
    if (!current.ended) {
      say(code === 1008 ? "The call was refused: reload the page and try again." : "The call ended.");
    }
    if (call === current) call = null;
    setIdle();
  }

  async function start() {
    startButton.disabled = true;
    transcript.textContent = "";
    callLine.hidden = true;
    const current = { ended: false, id: null };
    call = current;
    try {
      say("Asking for the microphone…");
      current.stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      current.context = new AudioContext();
      await current.context.audioWorklet.addModule(box.dataset.worklets);
      current.capture = new AudioWorkletNode(current.context, "softphone-capture");
      current.playback = new AudioWorkletNode(current.context, "softphone-playback", {
        numberOfInputs: 0,
        outputChannelCount: [1],
      });
      const mute = current.context.createGain();
      mute.gain.value = 0;
      current.context.createMediaStreamSource(current.stream).connect(current.capture);
      current.capture.connect(mute).connect(current.context.destination);
      current.playback.connect(current.context.destination);
      await current.context.resume();

      say("Calling…");
      const placed = await place();
      if (placed.status !== "admitted") {
        current.ended = true;
        say("The receptionist cannot take the call. " + placed.message);
        teardown(current, 1000);
        return;
      }
      const url = new URL(placed.media_path, window.location.href);
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      const ws = new WebSocket(url.href);
      current.ws = ws;
      ws.binaryType = "arraybuffer";
      ws.onopen = function () {
        ws.send(JSON.stringify({ type: "start", call: placed.call, token: placed.token }));
        hangupButton.disabled = false;
        hangupButton.focus();
      };
      ws.onmessage = function (event) {
        if (typeof event.data === "string") {
          onControl(current, event.data);
        } else {
          current.playback.port.postMessage({ type: "audio", pcm: event.data }, [event.data]);
        }
      };
      ws.onclose = function (event) {
        teardown(current, event.code);
      };
      current.playback.port.onmessage = function (event) {
        if (ws.readyState === WebSocket.OPEN && !current.ended) {
          ws.send(JSON.stringify({ type: "played", turn: event.data.turn }));
        }
      };
      current.capture.port.onmessage = function (event) {
        // Audio only once the call has started: the server reads nothing else first.
        if (current.id !== null && !current.ended && ws.readyState === WebSocket.OPEN) {
          ws.send(event.data);
        }
      };
    } catch (error) {
      current.ended = true;
      say(error && error.message ? error.message : "The call could not be placed.");
      teardown(current, 1000);
    }
  }

  function hangUp() {
    const current = call;
    if (!current || !current.ws) return;
    hangupButton.disabled = true;
    say("Hanging up…");
    stopMicrophone(current);
    if (current.ws.readyState === WebSocket.OPEN) {
      current.ws.send(JSON.stringify({ type: "hangup" }));
    }
    // The server sends "end" and closes; close ourselves if it does not.
    current.timer = setTimeout(function () { current.ws.close(); }, HANGUP_GRACE_MS);
  }

  startButton.addEventListener("click", start);
  hangupButton.addEventListener("click", hangUp);
  say("Ready: press Start call.");
})();
