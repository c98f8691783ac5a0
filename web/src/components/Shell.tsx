import { signOut } from "firebase/auth";
import type { ReactNode } from "react";
import { useAppStatus, useStatusPolling } from "../appStatus";
import { auth } from "../firebase";
import { useUser } from "../session";
import { KillSwitchBanner } from "./KillSwitchBanner";
import { Link } from "./Link";

interface Props {
  current: string;
  pages: readonly { path: string; title: string }[];
  children: ReactNode;
}

const BROKER = "/broker";

export default function Shell({ current, pages, children }: Props) {
  const user = useUser();
  useStatusPolling(user.uid);
  const { status } = useAppStatus();
  const unlinked = status?.broker_linked === false;
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Rebalancer</span>
        <nav aria-label="Main">
          <ul>
            {pages.map((page) => (
              <li key={page.path}>
                <Link
                  href={page.path}
                  aria-current={page.path === current ? "page" : undefined}
                  className={page.path === BROKER && unlinked ? "nudge" : undefined}
                >
                  {page.title}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who">
          {user.email}{" "}
          <button type="button" onClick={() => void signOut(auth)}>
            Sign out
          </button>
        </span>
      </header>
      <KillSwitchBanner />
      {unlinked && current !== BROKER ? (
        <p className="banner banner-info" data-testid="link-nudge">
          No broker account is linked yet: nothing can be measured or traded.{" "}
          <Link href={BROKER}>Link your broker</Link>
        </p>
      ) : null}
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
