-- A small test runner for headless Neovim: register tests with `test(name, fn)`,
-- call `run()`; it prints one `ok`/`not ok` line per test and the closing
-- line `N passed, N failed`, then exits non-zero when anything failed.
local H = { tests = {} }

local function out(line)
  io.stdout:write(line, "\n")
  io.stdout:flush()
end

function H.test(name, fn)
  table.insert(H.tests, { name = name, fn = fn })
end

function H.eq(expected, actual, what)
  if not vim.deep_equal(expected, actual) then
    error(
      ("%sexpected %s, got %s"):format(what and (what .. ": ") or "", vim.inspect(expected), vim.inspect(actual)),
      2
    )
  end
end

function H.ok(condition, what)
  if not condition then
    error(what or "assertion failed", 2)
  end
end

---Asserts that `text` contains `needle` (plain text, not a pattern).
function H.contains(text, needle, what)
  if type(text) ~= "string" or not text:find(needle, 1, true) then
    error(("%sexpected %s to contain %s"):format(what and (what .. ": ") or "", vim.inspect(text), vim.inspect(needle)), 2)
  end
end

---Waits until `condition()` returns a truthy value (checked every `interval_ms`),
---at most `timeout_ms`; returns that value or fails with `what`.
function H.wait_for(what, timeout_ms, condition, interval_ms)
  local value
  local done = vim.wait(timeout_ms, function()
    value = condition()
    return value ~= nil and value ~= false
  end, interval_ms or 50)
  if not done then
    error(("timed out after %d ms waiting for %s"):format(timeout_ms, what), 2)
  end
  return value
end

---Waits until the current buffer's quiver client has attached and initialized and
---returns it. Fails at once when no quiver client is even starting (the server was not
---started, or exited during start-up: its stderr is in lsp.log).
function H.wait_for_quiver_client(quiver, timeout_ms)
  return H.wait_for("the quiver client to attach and initialize", timeout_ms, function()
    -- `_uninitialized` lists a client that is still starting.
    local starting = vim.lsp.get_clients({ name = "quiver", _uninitialized = true })
    if #starting == 0 then
      error("no quiver client: the server was not started, or exited during start-up (see lsp.log)")
    end
    local c = quiver.get_client(0)
    return c ~= nil and c.initialized and c or nil
  end)
end

---Waits until `status()` (a quiver/status answer or nil) says ready and returns it;
---fails at once on an index error.
function H.wait_for_ready(status, timeout_ms)
  return H.wait_for("quiver/status to say ready", timeout_ms, function()
    local s = status()
    if s ~= nil and s.state == "error" then
      error("the server reported an index error: " .. vim.inspect(s))
    end
    return s ~= nil and s.state == "ready" and s or nil
  end, 250)
end

---Replaces vim.notify while `fn` runs and returns the messages it got;
---`H.last_captured` is that list while `fn` runs, for waiting on a message.
function H.capture_notify(fn)
  local messages = {}
  H.last_captured = messages
  local original = vim.notify
  vim.notify = function(message, level)
    table.insert(messages, { message = message, level = level })
  end
  local ok, err = pcall(fn)
  vim.notify = original
  if not ok then
    error(err, 0)
  end
  return messages
end

---Runs the tests in order. With `stop_on_failure`, the tests after a failure
---are reported as not run (for scenarios whose steps build on each other).
function H.run(opts)
  opts = opts or {}
  local passed, failed, not_run = 0, 0, 0
  local stopped = false
  for i, t in ipairs(H.tests) do
    if stopped then
      not_run = not_run + 1
      out(("not ok %d - %s # not run: an earlier step failed"):format(i, t.name))
    else
      local ok, err = xpcall(t.fn, debug.traceback)
      if ok then
        passed = passed + 1
        out(("ok %d - %s"):format(i, t.name))
      else
        failed = failed + 1
        out(("not ok %d - %s"):format(i, t.name))
        for line in tostring(err):gmatch("[^\n]+") do
          out("#   " .. line)
        end
        stopped = opts.stop_on_failure == true
      end
    end
  end
  if opts.after ~= nil then
    pcall(opts.after)
  end
  out(("%d passed, %d failed"):format(passed, failed + not_run))
  vim.cmd(("cquit %d"):format((failed + not_run) > 0 and 1 or 0))
end

return H
