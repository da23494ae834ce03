-- tf2kro: health of a kro instance (the kind a tf2kro ResourceGraphDefinition defines, group migration.tf2kro.dev).
-- Healthy    status.state ACTIVE and condition Ready=True (every child resource ready)
-- Degraded   status.state FAILED or ERROR
-- Progressing otherwise (no status yet, IN_PROGRESS, DELETING, Ready not True)
local hs = {status = "Progressing", message = "waiting for kro to reconcile the instance"}
if obj.status == nil then
  return hs
end
local state = obj.status.state
local ready = nil
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then ready = c end
  end
end
local function text(c)
  if c == nil then return "" end
  local m = c.message or c.reason or ""
  if type(m) ~= "string" then m = tostring(m) end
  return m
end
if state == "FAILED" or state == "ERROR" then
  hs.status = "Degraded"
  hs.message = "state " .. state .. ": " .. text(ready)
  return hs
end
if state == "ACTIVE" and ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = "ACTIVE, Ready=True"
  return hs
end
hs.message = "state " .. tostring(state) .. ", Ready=" .. tostring(ready and ready.status) .. " " .. text(ready)
return hs
