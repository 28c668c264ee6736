-- Argo CD health of schemagate.dev/SchemaMigration, from the kstatus
-- conditions the controller writes (docs/gitops.md):
--   status older than metadata.generation, or none yet -> Progressing
--   Stalled=True                                        -> Degraded
--   Ready=True                                          -> Healthy
--   spec.suspend and not Ready                          -> Suspended
--   anything else (Reconciling=True: Lease, Job, retry) -> Progressing
-- Argo CD runs custom health scripts without the Lua standard libraries
-- (only base and table), so this uses neither string nor os functions.

local function condition(conditions, kind)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

-- "Reason: message", or whichever of the two is set.
local function describe(c)
  local reason = c.reason or ""
  local message = c.message or ""
  if reason == "" then
    return message
  end
  if message == "" then
    return reason
  end
  return reason .. ": " .. message
end

local hs = {}
local generation = 0
if obj.metadata ~= nil and obj.metadata.generation ~= nil then
  generation = obj.metadata.generation
end

if obj.status == nil or obj.status.conditions == nil or obj.status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the schemagate controller to report status"
  return hs
end

local observed = obj.status.observedGeneration
if observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the schemagate controller to observe generation " ..
    tostring(generation) .. " (status is for generation " .. tostring(observed) .. ")"
  return hs
end

local conditions = obj.status.conditions
local ready = condition(conditions, "Ready")
local stalled = condition(conditions, "Stalled")
local reconciling = condition(conditions, "Reconciling")

-- A condition set for an older generation says nothing about this one.
local function current(c)
  return c ~= nil and (c.observedGeneration == nil or c.observedGeneration >= generation)
end

if current(stalled) and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end

if current(ready) and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end

local suspended = obj.spec ~= nil and obj.spec.suspend == true
local busy = current(reconciling) and reconciling.status == "True"
if suspended and not busy then
  hs.status = "Suspended"
  if current(ready) then
    hs.message = describe(ready)
  else
    hs.message = "spec.suspend is true: no Job is started"
  end
  return hs
end

hs.status = "Progressing"
if busy then
  hs.message = describe(reconciling)
elseif current(ready) then
  hs.message = describe(ready)
else
  hs.message = "Waiting for the schemagate controller to report status"
end
return hs
