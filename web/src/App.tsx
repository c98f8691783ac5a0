import { lazy, Suspense, useEffect, type ComponentType } from "react";
import { navigate, useLocation } from "./router";
import { useAuthUser, UserContext } from "./session";

// One chunk per page, and one for the signed-in shell (navigation, the status banners):
// the sign-in screen loads only React, the app's entry and Firebase Auth.
type Loader = () => Promise<{ default: ComponentType }>;

/** A lazy page that can also be fetched ahead of rendering (in parallel with the shell). */
function page(load: Loader) {
  return Object.assign(lazy(load), { load });
}

const loadShell = () => import("./components/Shell");
const Shell = lazy(loadShell);
const SignIn = lazy(() => import("./pages/SignIn"));
const LinkBroker = page(() => import("./pages/LinkBroker"));
const Drift = page(() => import("./pages/Drift"));
const Rebalance = page(() => import("./pages/Rebalance"));
const History = page(() => import("./pages/History"));
const Schedule = page(() => import("./pages/Schedule"));
const Settings = page(() => import("./pages/Settings"));
const Simulate = page(() => import("./pages/Simulate"));
const Alerts = page(() => import("./pages/Alerts"));

export const PAGES = [
  { path: "/", title: "Drift", Page: Drift },
  { path: "/rebalance", title: "Rebalance", Page: Rebalance },
  { path: "/history", title: "History", Page: History },
  { path: "/schedule", title: "Schedule & goal", Page: Schedule },
  { path: "/settings", title: "Settings", Page: Settings },
  { path: "/simulate", title: "What if", Page: Simulate },
  { path: "/alerts", title: "Alerts", Page: Alerts },
  { path: "/broker", title: "Broker", Page: LinkBroker },
] as const;

function Loading() {
  return (
    <p role="status" className="loading">
      Loading…
    </p>
  );
}

export function App() {
  const user = useAuthUser();
  const { path } = useLocation();
  const page = PAGES.find((p) => p.path === path) ?? PAGES[0];

  useEffect(() => {
    if (user === null && path !== "/signin") navigate("/signin");
    if (user && path === "/signin") navigate("/");
  }, [user, path]);
  useEffect(() => {
    document.title = user ? `${page.title} · Rebalancer` : "Sign in · Rebalancer";
  }, [user, page]);

  if (user === undefined) return <Loading />;
  if (user === null) {
    return (
      <Suspense fallback={<Loading />}>
        <SignIn />
      </Suspense>
    );
  }
  const { Page } = page;
  // The shell and the page load side by side, not one after the other.
  void loadShell();
  void Page.load();
  return (
    <UserContext.Provider value={user}>
      <Suspense fallback={<Loading />}>
        <Shell current={page.path} pages={PAGES}>
          <Suspense fallback={<Loading />}>
            <Page />
          </Suspense>
        </Shell>
      </Suspense>
    </UserContext.Provider>
  );
}
