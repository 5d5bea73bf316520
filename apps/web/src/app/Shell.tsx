/** The frame around every view: the masthead, the navigation and the view the URL names. */
import {
  Button,
  Masthead,
  MastheadBrand,
  MastheadContent,
  MastheadMain,
  MastheadToggle,
  Nav,
  NavItem,
  NavList,
  Page,
  PageSidebar,
  PageSidebarBody,
  PageToggleButton,
  Title,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from '@patternfly/react-core';
import { BarsIcon } from '@patternfly/react-icons';
import { href, useRoute } from './route.ts';
import { SECTIONS, viewFor } from './views.tsx';

export function Shell({ onLogout }: { onLogout: (() => void) | undefined }) {
  const route = useRoute();
  const section = route[0] ?? SECTIONS[0]?.id;
  const masthead = (
    <Masthead>
      <MastheadMain>
        <MastheadToggle>
          <PageToggleButton variant="plain" aria-label="Navigation">
            <BarsIcon />
          </PageToggleButton>
        </MastheadToggle>
        <MastheadBrand>
          <Title headingLevel="h1" size="lg">
            Debian Forge
          </Title>
        </MastheadBrand>
      </MastheadMain>
      <MastheadContent>
        <Toolbar isFullHeight>
          <ToolbarContent>
            {onLogout && (
              <ToolbarItem align={{ default: 'alignEnd' }}>
                <Button variant="secondary" onClick={onLogout}>
                  Log out
                </Button>
              </ToolbarItem>
            )}
          </ToolbarContent>
        </Toolbar>
      </MastheadContent>
    </Masthead>
  );
  const sidebar = (
    <PageSidebar>
      <PageSidebarBody>
        <Nav aria-label="Sections">
          <NavList>
            {SECTIONS.map((s) => (
              <NavItem key={s.id} itemId={s.id} isActive={s.id === section} to={href(s.id)}>
                {s.title}
              </NavItem>
            ))}
          </NavList>
        </Nav>
      </PageSidebarBody>
    </PageSidebar>
  );
  return (
    <Page masthead={masthead} sidebar={sidebar} isManagedSidebar>
      {viewFor(route)}
    </Page>
  );
}
