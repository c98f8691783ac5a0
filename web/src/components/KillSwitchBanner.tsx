import { useAppStatus } from "../appStatus";

/** Shown whenever get_status says trading is off (the kill-switch or drawdown recovery). */
export function KillSwitchBanner() {
  const { status } = useAppStatus();
  if (!status || status.trading_enabled) return null;
  return (
    <div className="banner banner-danger" role="alert" data-testid="kill-switch-banner">
      <strong>Trading is off.</strong> No order will be placed until an administrator turns
      trading back on. <span className="reason">Reason: {status.trading_message ?? "not given"}</span>
    </div>
  );
}
