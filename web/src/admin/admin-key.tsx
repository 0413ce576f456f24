import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { readAdminKey, writeAdminKey } from './admin-key-store';

interface AdminKeyState {
  adminKey: string | null;
  setAdminKey: (key: string | null) => void;
}

const AdminKeyContext = createContext<AdminKeyState>({ adminKey: null, setAdminKey: () => undefined });

export function AdminKeyProvider({ children }: { children: ReactNode }) {
  const [adminKey, setKey] = useState<string | null>(() => readAdminKey());
  const setAdminKey = useCallback((key: string | null) => {
    writeAdminKey(key);
    setKey(key);
  }, []);
  const value = useMemo(() => ({ adminKey, setAdminKey }), [adminKey, setAdminKey]);
  return <AdminKeyContext.Provider value={value}>{children}</AdminKeyContext.Provider>;
}

export const useAdminKey = () => useContext(AdminKeyContext);
