// Live transcripts: one EventSource on the console's feed; each event names its call.
"use strict";
(function () {
  const box = document.getElementById("live-calls");
  const status = document.getElementById("live-status");
  const none = document.getElementById("no-live-calls");
  if (!box || !window.EventSource) return;

  function section(ref) {
    let found = box.querySelector('section[data-call="' + CSS.escape(ref) + '"]');
    if (found) return found;
    found = document.createElement("section");
    found.className = "live-call";
    found.dataset.call = ref;
    const heading = document.createElement("h2");
    const link = document.createElement("a");
    link.href = "/console/calls/" + encodeURIComponent(ref);
    link.textContent = "Call in progress";
    heading.appendChild(link);
    found.setAttribute("aria-label", "Call in progress");
    found.appendChild(heading);
    found.appendChild(document.createElement("ol")).className = "transcript";
    box.prepend(found);
    if (none) none.hidden = true;
    return found;
  }

  function line(ref, className, text) {
    const item = document.createElement("li");
    item.className = className;
    item.textContent = text;
    section(ref).querySelector("ol").appendChild(item);
  }

  const feed = new EventSource(box.dataset.feed);
  feed.addEventListener("ready", function () {
    status.textContent = "Connected: transcripts appear as people speak.";
  });
  feed.addEventListener("error", function () {
    status.textContent = "Reconnecting to the live feed…";
  });
  feed.addEventListener("call", function (message) {
    const event = JSON.parse(message.data);
    if (event.type === "transcript") {
      const who = event.speaker === "caller" ? "Caller" : "Receptionist";
      line(event.call, "turn " + event.speaker, who + ": " + event.text);
    } else if (event.type === "tool") {
      line(event.call, "tool", "Tool " + event.name + ": " + event.outcome);
    } else if (event.type === "barge_in") {
      line(event.call, "tool", "(caller interrupted)");
    } else if (event.type === "ended") {
      section(event.call).classList.add("ended");
      line(event.call, "tool", "Call ended: " + event.reason.replace(/_/g, " "));
    }
  });
})();
