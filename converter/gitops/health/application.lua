-- tf2kro: health of an ArgoCD Application (argoproj.io). ArgoCD >= 1.8 no longer assesses it, so an app-of-apps
-- would run every sync wave at once; with this check wave N+1 (the next phase) waits until wave N is Healthy.
local hs = {status = "Progressing", message = ""}
if obj.status ~= nil and obj.status.health ~= nil and obj.status.health.status ~= nil then
  hs.status = obj.status.health.status
  if obj.status.health.message ~= nil then hs.message = tostring(obj.status.health.message) end
end
return hs
